"""Issue 15's randomised scenario test (tests/hubspot/scenario/ holds its parts).

Seeded random interleavings of edits on both sides (Lifecycle through its services,
HubSpot as a person in its UI), clears, owner changes, deletions and restores, merges,
deals, webhooks delayed / duplicated / reordered / dropped, 429s, 5xx, dropped
connections, timeouts and workers killed mid-pass; then quiet until sync settles, and
the invariants of `scenario/invariants.py` are checked. Everything runs in this process
against the sandbox's HTTP server, so a seed replays the same run.

CI runs the seeds of CI_SEEDS at the default size (about a minute on 2 cores). Larger or
other runs:

    HUBSPOT_SCENARIO_SEEDS=1-20 HUBSPOT_SCENARIO_STEPS=150 HUBSPOT_SCENARIO_COMPANIES=10 \\
        pytest tests/hubspot/test_scenario.py
    pytest tests/hubspot/test_scenario.py --scenario-seed 7   # replay one seed
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import override_settings

from accounts.hubspot import tasks
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.hubspot.sandbox.clock import SystemClock

from .scenario import Config, Scenario, scenario_check, scenario_run
from .sync_support import SECRET, TOKEN, _serve

pytestmark = pytest.mark.django_db
CI_SEEDS = [1, 2]
# Seeds (at the default size) that meet an engine defect not fixed yet: strict xfails,
# so the day it is fixed the seed says so ({seed: "defect: what goes wrong"}; the
# defect is described in docs/known-issues.md). None at present: seeds 3 and 10 (an
# edit back to the agreed value) and 11 (a stale "ask" conflict) were fixed.
KNOWN_DEFECTS: dict[int, str] = {}
STEPS = int(os.environ.get("HUBSPOT_SCENARIO_STEPS", "60"))
COMPANIES = int(os.environ.get("HUBSPOT_SCENARIO_COMPANIES", "6"))


def _seeds(text: str) -> list[int]:
    """ "1,5,9" or "1-20" (or both: "1-3,9")."""
    seeds: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("-")
        seeds.extend(range(int(first), int(last or first) + 1))
    return seeds


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "seed" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("scenario_seed") or _seeds(
            os.environ.get("HUBSPOT_SCENARIO_SEEDS", "")
        )
        known = KNOWN_DEFECTS if (STEPS, COMPANIES) == (60, 6) else {}
        metafunc.parametrize(
            "seed",
            [
                pytest.param(s, marks=pytest.mark.xfail(strict=True, reason=known[s]))
                if s in known
                else s
                for s in chosen or CI_SEEDS
            ],
        )


@pytest.fixture
def traveller() -> Iterator[time_machine.Coordinates]:
    """One clock for both sides that only the test moves on, so a seed replays the
    same run (rate-limit windows, change times) however fast the machine is."""
    with time_machine.travel(datetime.now(UTC), tick=False) as coordinates:
        yield coordinates


@pytest.fixture
def portal(
    traveller: time_machine.Coordinates, seed: int
) -> Iterator[tuple[Sandbox, SandboxServer]]:
    # The sandbox's own draws (eventIds, random faults) follow the seed too.
    sandbox = Sandbox(clock=SystemClock(), tier="free", access_token=TOKEN, seed=seed)
    server = _serve(sandbox)
    yield sandbox, server
    server.stop()


def test_two_way_sync_keeps_its_invariants_under_random_interleavings_and_faults(
    seed: int,
    portal: tuple[Sandbox, SandboxServer],
    traveller: time_machine.Coordinates,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox, server = portal
    scenario = Scenario(
        Config(seed=seed, steps=STEPS, companies=COMPANIES),
        sandbox,
        server,
        shift=lambda seconds: traveller.shift(seconds),
    )
    # The tasks build their client from settings: give them the scenario's (the one
    # whose waits move the clock and whose worker can be killed).
    monkeypatch.setattr(tasks, "client_from_settings", lambda: scenario.client)
    with override_settings(
        HUBSPOT_ACCESS_TOKEN=TOKEN,
        HUBSPOT_BASE_URL=server.url,
        HUBSPOT_CLIENT_SECRET=SECRET,
        HUBSPOT_TIER="professional",
        HUBSPOT_ARR_SOURCE="annualrevenue",
        # The test runs every pass itself, in its seeded order (an edit's hook would run
        # a push inline, as tasks are sync in tests, which no worker does).
        ACCOUNT_CHANGED_HOOKS=[],
    ):
        started = time.perf_counter()
        scenario_run(scenario, secret=SECRET)
        scenario.timing["total"] = time.perf_counter() - started
        scenario_check(scenario)
    print(
        f"\nscenario seed {seed}: settled after {scenario.settled_after} quiet round(s); "
        + ", ".join(
            f"{k}: {v}" for k, v in sorted({**scenario.counts, **scenario.channel.counts}.items())
        )
        + "; seconds: "
        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(scenario.timing.items()))
    )
