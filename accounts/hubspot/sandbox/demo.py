"""A believable portal for development: owners, companies, deals across the pipeline,
contacts and their associations, generated from a seed so every run is the same."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from .persist import seed

if TYPE_CHECKING:
    from .app import Sandbox

WORDS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Wonka",
    "Massive",
    "Dynamic",
    "Pied",
    "Piper",
]
SUFFIXES = ["Labs", "Corp", "Systems", "Group", "Analytics", "Cloud", "Health", "Logistics"]
STAGES = ["appointmentscheduled", "qualifiedtobuy", "contractsent", "closedwon", "closedlost"]
FIRST = ["Ann", "Bo", "Chen", "Dana", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo"]
TITLES = ["CTO", "VP Ops", "Analyst"]
LAST = ["Lee", "Novak", "Okafor", "Park", "Quinn", "Rossi", "Singh", "Tanaka"]


def demo_portal(sandbox: Sandbox, *, companies: int = 40, seed_value: int = 7) -> dict[str, Any]:
    """Seed `companies` companies (with 1-3 deals and 1-4 contacts each) and 4 owners."""
    rng = random.Random(seed_value)
    owners = [
        {
            "id": str(101 + i),
            "email": f"{f.lower()}@vendor.example",
            "firstName": f,
            "lastName": rng.choice(LAST),
        }
        for i, f in enumerate(FIRST[:4])
    ]
    data: dict[str, Any] = {"owners": owners, "companies": [], "deals": [], "contacts": []}
    links: list[dict[str, str]] = []
    for c in range(companies):
        name = f"{rng.choice(WORDS)} {rng.choice(SUFFIXES)}"
        domain = f"{name.lower().replace(' ', '')}{c}.example"
        owner = rng.choice(owners)["id"]
        data["companies"].append(
            {
                "key": f"c{c}",
                "properties": {
                    "name": name,
                    "domain": domain,
                    "hubspot_owner_id": owner,
                    "industry": rng.choice(["COMPUTER_SOFTWARE", "FINANCIAL_SERVICES"]),
                    "annualrevenue": str(rng.randrange(1, 500) * 10_000),
                },
            }
        )
        for d in range(rng.randint(1, 3)):
            key = f"c{c}d{d}"
            data["deals"].append(
                {
                    "key": key,
                    "properties": {
                        "dealname": f"{name} {'Renewal' if d else 'New business'}",
                        "amount": str(rng.randrange(5, 200) * 1_000),
                        "pipeline": "default",
                        "dealstage": rng.choice(STAGES),
                        "hubspot_owner_id": owner,
                        "closedate": f"2026-{rng.randint(1, 12):02d}-15T00:00:00.000Z",
                    },
                }
            )
            links.append({"from": "deals", "fromKey": key, "to": "companies", "toKey": f"c{c}"})
        for p in range(rng.randint(1, 4)):
            key = f"c{c}p{p}"
            first = rng.choice(FIRST)
            data["contacts"].append(
                {
                    "key": key,
                    "properties": {
                        "email": f"{first.lower()}.{p}@{domain}",
                        "firstname": first,
                        "lastname": rng.choice(LAST),
                        "jobtitle": rng.choice(TITLES),
                    },
                }
            )
            links.append({"from": "contacts", "fromKey": key, "to": "companies", "toKey": f"c{c}"})
    data["associations"] = links
    return seed(sandbox, data)
