"""A third-party HubSpot reader, unchanged, reads the sandbox: Airbyte's source-hubspot
reads companies, deals and contacts, and every record the sandbox holds must arrive with
the same values (and deals and contacts with their companies).

    .venv/bin/python scripts/hubspot_contract/check.py --contract-python .venv-contract/bin/python

Run by `make hubspot-contract` (scripts/hubspot-contract), which builds that virtualenv.
Exits 1 listing every difference. Uses only the sandbox (no Django, no database).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from accounts.hubspot.sandbox import Sandbox, SandboxServer, seed  # noqa: E402
from accounts.hubspot.sandbox.clock import ms_from_text  # noqa: E402

TOKEN = "contract-token"
STREAMS = ("companies", "deals", "contacts")
ENTRY = Path(__file__).with_name("airbyte_entry.py")
CUSTOM: list[dict[str, Any]] = [
    {"name": "seats", "label": "Seats", "type": "number", "fieldType": "number"},
    {"name": "renews_on", "label": "Renews on", "type": "date", "fieldType": "date"},
    {"name": "last_qbr_at", "label": "Last QBR", "type": "datetime", "fieldType": "date"},
    {"name": "is_strategic", "label": "Strategic", "type": "bool", "fieldType": "booleancheckbox"},
    {
        "name": "tier",
        "label": "Tier",
        "type": "enumeration",
        "fieldType": "select",
        "options": [
            {"label": "Gold", "value": "gold", "displayOrder": 0, "hidden": False},
            {"label": "Silver", "value": "silver", "displayOrder": 1, "hidden": False},
        ],
    },
]


def portal(companies: int) -> Sandbox:
    """A portal with more than one page of each type, custom properties of every kind,
    deals with a primary and an unlabeled company, contacts with their company."""
    sandbox = Sandbox(access_token=TOKEN)
    data: dict[str, Any] = {
        "properties": {"companies": [{**p, "groupName": "companyinformation"} for p in CUSTOM]},
        "owners": [
            {"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee", "id": "501"}
        ],
        "companies": [],
        "deals": [],
        "contacts": [],
        "associations": [],
    }
    for i in range(companies):
        data["companies"].append(
            {
                "key": f"c{i}",
                "properties": {
                    "name": f"Company {i}",
                    "domain": f"co{i}.example",
                    "annualrevenue": str(1000 * i + 500) + (".50" if i % 3 else ""),
                    "industry": "COMPUTER_SOFTWARE" if i % 2 else "FINANCIAL_SERVICES",
                    "hubspot_owner_id": "501" if i % 4 == 0 else "",
                    "seats": str(i % 50),
                    "renews_on": f"2027-0{1 + i % 9}-15",
                    "last_qbr_at": str(1_717_000_000_000 + i * 86_400_000),
                    "is_strategic": "true" if i % 5 == 0 else "false",
                    "tier": "gold" if i % 2 else "silver",
                },
            }
        )
        data["deals"].append(
            {
                "key": f"d{i}",
                "properties": {
                    "dealname": f"Deal {i}",
                    "amount": f"{250 * i}.00",
                    "closedate": str(1_767_225_600_000 + i * 86_400_000),
                    "pipeline": "default",
                    "dealstage": ("closedwon", "qualifiedtobuy", "contractsent")[i % 3],
                },
            }
        )
        data["contacts"].append(
            {
                "key": f"p{i}",
                "properties": {
                    "email": f"person{i}@co{i}.example",
                    "firstname": "Pat",
                    "lastname": f"Number {i}",
                    "jobtitle": "CTO" if i % 2 else "",
                },
            }
        )
        data["associations"] += [
            {
                "from": "deals",
                "fromKey": f"d{i}",
                "to": "companies",
                "toKey": f"c{i}",
                "types": [5],
            },
            {
                "from": "contacts",
                "fromKey": f"p{i}",
                "to": "companies",
                "toKey": f"c{i}",
                "types": [1],
            },
        ]
        if i:
            data["associations"].append(
                {"from": "deals", "fromKey": f"d{i}", "to": "companies", "toKey": f"c{i - 1}"}
            )
    seed(sandbox, data)
    return sandbox


def airbyte(python: str, url: str, *args: str) -> list[dict[str, Any]]:
    """The connector's messages; raises on an error trace or a failed exit."""
    done = subprocess.run(
        [python, str(ENTRY), url, *args], capture_output=True, text=True, timeout=900
    )
    messages = []
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            messages.append(json.loads(line))
    errors = [
        m["trace"]["error"]["message"]
        for m in messages
        if m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR"
    ]
    if done.returncode or errors:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"source-hubspot {args[0]} failed ({done.returncode}): {errors}")
    return messages


def same(kind: str, ours: str, theirs: Any) -> bool:
    """Whether the reader's value is the sandbox's, allowing for its typed conversion
    (numbers as numbers, booleans as booleans, datetimes re-formatted)."""
    if ours == "":
        return theirs in (None, "")
    if theirs is None:
        return False
    if kind == "number":
        try:
            return Decimal(str(theirs)) == Decimal(ours)
        except InvalidOperation:
            return False
    if kind == "bool":
        return str(theirs).lower() == ours
    if kind == "datetime":
        return ms_from_text(str(theirs)) == ms_from_text(ours)
    if kind == "date":
        return str(theirs)[:10] == ours
    return str(theirs) == ours


def compare(sandbox: Sandbox, records: dict[str, list[dict[str, Any]]]) -> list[str]:
    store = sandbox.store
    problems = []
    for stream in STREAMS:
        got = {str(r["id"]): r for r in records.get(stream, [])}
        held = store.ordered(stream)
        if len(got) != len(held):
            problems.append(f"{stream}: the sandbox holds {len(held)}, {len(got)} arrived")
        for record in held:
            theirs = got.get(record.id)
            if theirs is None:
                problems.append(f"{stream} {record.id}: missing")
                continue
            values = theirs.get("properties") or {}
            for name, prop in store.properties[stream].items():
                ours = record.properties.get(name, "")
                if not same(prop["type"], ours, values.get(name)):
                    problems.append(
                        f"{stream} {record.id}.{name}: sandbox {ours!r}, read {values.get(name)!r}"
                    )
            if stream != "companies":
                # A primary link is listed twice (deal_to_company and
                # deal_to_company_unlabeled), as live portals list it: compare the ids.
                linked = sorted(store.associated(stream, record.id, "companies"), key=int)
                read = sorted({str(c) for c in theirs.get("companies") or []}, key=int)
                if read != linked:
                    problems.append(f"{stream} {record.id}: companies {linked}, read {read}")
    return problems


def unrouted(sandbox: Sandbox, server: SandboxServer) -> dict[tuple[str, str], int]:
    """Calls the reader made that the sandbox has no route for."""
    return {
        (method, path): n
        for (method, path), n in server.calls.items()
        if not any(r.method == method and r.pattern.match(path) for r in sandbox.routes)
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contract-python", required=True)
    parser.add_argument("--port", type=int, default=0, help="sandbox port (0: any free)")
    parser.add_argument("--companies", type=int, default=150)
    options = parser.parse_args()

    sandbox = portal(options.companies)
    server = SandboxServer(sandbox, port=options.port).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "config.json"
            config.write_text(
                json.dumps(
                    {
                        "start_date": "2017-01-01T00:00:00Z",
                        "credentials": {
                            "credentials_title": "Private App Credentials",
                            "access_token": TOKEN,
                        },
                    }
                )
            )
            py, url = options.contract_python, server.url
            started = time.perf_counter()
            checked = airbyte(py, url, "check", "--config", str(config))
            status = next(
                m["connectionStatus"] for m in checked if m["type"] == "CONNECTION_STATUS"
            )
            if status["status"] != "SUCCEEDED":
                raise SystemExit(f"source-hubspot check failed: {status}")
            found = airbyte(py, url, "discover", "--config", str(config))
            catalog = next(m["catalog"] for m in found if m["type"] == "CATALOG")
            streams = {s["name"]: s for s in catalog["streams"]}
            configured = Path(tmp) / "catalog.json"
            configured.write_text(
                json.dumps(
                    {
                        "streams": [
                            {
                                "stream": streams[name],
                                "sync_mode": "full_refresh",
                                "destination_sync_mode": "overwrite",
                            }
                            for name in STREAMS
                        ]
                    }
                )
            )
            messages = airbyte(
                py, url, "read", "--config", str(config), "--catalog", str(configured)
            )
            seconds = time.perf_counter() - started
    except SystemExit:
        print(f"calls without a route: {unrouted(sandbox, server)}", file=sys.stderr)
        raise
    finally:
        server.stop()
    records: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        if message.get("type") == "RECORD":
            records.setdefault(message["record"]["stream"], []).append(message["record"]["data"])
    problems = compare(sandbox, records)
    counts = ", ".join(f"{len(records.get(s, []))} {s}" for s in STREAMS)
    calls = sum(server.calls.values())
    print(f"source-hubspot read {counts} in {seconds:.1f} s ({calls} sandbox calls)")
    for problem in problems[:200]:
        print(f"  {problem}")
    if problems:
        print(f"{len(problems)} differences", file=sys.stderr)
        return 1
    print(f"every record arrived with the sandbox's values ({datetime.now(UTC):%H:%M:%S} UTC)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
