"""Issue 15's randomised scenario test, in three parts:

- `world.py`: one Lifecycle against one sandbox portal on a shared, shiftable clock, with
  the faults the test injects (webhooks held back, duplicated, reordered or dropped on
  their way to the real receiver view; 429s, 5xx, dropped connections and timeouts from
  the sandbox; a worker killed mid-pass after its Nth HubSpot call);
- `generator.py`: the seeded operations (edits on both sides, clears, owner changes,
  deletions and restores, merges, deals, sync passes, faults), each applied to the world
  and recorded in the shadow model and the operation log;
- `shadow.py` and `invariants.py`: what each field must end as by its rule, and the
  checks run once sync has settled, whose failure message names the seed and the log.
"""

from tests.hubspot.scenario.generator import Config, Scenario, scenario_run
from tests.hubspot.scenario.invariants import ScenarioFailed, scenario_check

__all__ = ["Config", "Scenario", "ScenarioFailed", "scenario_check", "scenario_run"]
