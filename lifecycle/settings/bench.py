"""Production settings as `manage.py bench_pages` serves them: every production
setting, plus a bare view (`/_bench/bare/`) behind the same middleware that the
pages' throughput is measured against. Never used to serve people."""

from .production import *  # noqa: F403

BENCH_BARE_VIEW = True
