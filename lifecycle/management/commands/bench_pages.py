"""Throughput of the main pages against a bare view, served as in production.

`python manage.py bench_pages` builds (or reuses) a demo portfolio of N accounts in
its own PostgreSQL database next to the configured one (`<name>_<N>`; above 20,000
accounts with COPY, `lifecycle.demo.build_large`, `--large` for 100,000), serves it
with gunicorn (2 sync workers, `lifecycle.settings.bench`: the production settings
with DEBUG off plus a bare `HttpResponse("ok")` view behind the same middleware),
logs in through the login form, and drives each page with wrk (Debian package
`wrk`) at a fixed concurrency for a fixed time. Runs alternate: bare, page, bare,
page, ..., and each page's share is its requests/s over the mean of the two bare
runs around it, because on a shared machine absolute numbers drift within minutes.
Queries per request are counted in-process (Django test client, same database and
user). Results go to bench/results/pages.json; see docs/performance.md.

`--in-process` skips the server: each page through the Django test client (DEBUG
off, the same database and user), median of `--runs` requests, with the share of
it spent waiting on SQL; `--profile DIR` also writes a cProfile of each page
(DIR/<label>.prof). That is the steadier measure on a loaded machine.
"""

from __future__ import annotations

import cProfile
import html
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import Account, User
from lifecycle.demo import build_all, build_large

BARE = "/_bench/bare/"
# Above this many accounts the portfolio is built with COPY (`lifecycle.demo.build_large`):
# the demo's own builders take 20+ minutes at 100,000.
COPY_ABOVE = 20_000

# wrk prints this line when a run is done: what the table needs, as JSON.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "non_2xx_3xx": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p95_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, summary.errors.status, errors,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Page:
    label: str
    path: str
    user: str  # the demo login that opens it
    group: str  # which target applies: portfolio, list, metrics


def _pages(*, account_id: int, owner_id: int) -> list[Page]:
    p = "/accounts/"
    portfolio = [
        ("portfolio", p),
        ("portfolio sort=-arr", f"{p}?sort=-arr"),
        ("portfolio sort=health", f"{p}?sort=health"),
        ("portfolio sort=renewal", f"{p}?sort=renewal"),
        ("portfolio sort=owner", f"{p}?sort=owner"),
        ("portfolio sort=stage", f"{p}?sort=stage"),
        ("portfolio sort=-activity", f"{p}?sort=-activity"),
        ("portfolio segment+stage", f"{p}?segment=enterprise&stage=adoption&sort=-arr"),
        ("portfolio owner", f"{p}?owner={owner_id}&sort=renewal"),
        ("portfolio renewal_within=90", f"{p}?renewal_within=90&sort=renewal"),
        ("portfolio search", f"{p}?q=tech"),
        ("portfolio page 200", f"{p}?page=200"),
    ]
    return [
        *(Page(label, path, "leader", "portfolio") for label, path in portfolio),
        Page("account page", f"/accounts/{account_id}/", "leader", "list"),
        Page("my work (csm)", "/my-work/", "csm1", "list"),
        Page("renewals", "/renewals/", "leader", "list"),
        Page("onboarding (csm)", "/onboarding/", "csm1", "list"),
        Page("alerts (csm)", "/alerts/", "csm1", "list"),
        Page("api accounts", "/api/v1/accounts/", "leader", "list"),
        Page("metrics", "/metrics/", "leader", "metrics"),
    ]


def _percentile(values: list[float], pct: int) -> float:
    """The nearest-rank percentile (the slowest value for a handful of runs)."""
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, max(0, -(-pct * len(ranked) // 100) - 1))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url(name: str) -> str:
    db = connection.settings_dict
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{name}"


class Command(BaseCommand):
    help = "Requests/s of each main page as a share of a bare view (gunicorn + wrk)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=10_000)
        parser.add_argument("--large", action="store_true", help="100,000 accounts.")
        parser.add_argument(
            "--builder",
            choices=["demo", "copy"],
            default="",
            help=(
                "demo: lifecycle.demo.build_all (20+ minutes at 100,000 accounts); copy: "
                "lifecycle.demo.build_large, COPY for what grows with the portfolio. "
                f"Default: copy above {COPY_ABOVE:,} accounts."
            ),
        )
        parser.add_argument("--duration", type=int, default=5, help="Seconds per wrk run.")
        parser.add_argument("--concurrency", type=int, default=8)
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers.")
        parser.add_argument("--port", type=int, default=0, help="Default: a free port.")
        parser.add_argument("--only", default="", help="Run only pages whose label has this.")
        parser.add_argument("--rebuild", action="store_true", help="Drop the bench database.")
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="Time each page in-process (test client, DEBUG off) instead of serving it.",
        )
        parser.add_argument("--runs", type=int, default=7, help="Requests per page, in-process.")
        parser.add_argument("--profile", default="", help="With --in-process: cProfile dir.")
        parser.add_argument(
            "--output",
            default=str(Path(settings.BASE_DIR) / "bench" / "results" / "pages.json"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_pages needs PostgreSQL: set DATABASE_URL.")
        wrk = shutil.which("wrk")
        if wrk is None:
            raise CommandError("wrk is missing: apt-get install wrk (Debian/Ubuntu).")
        n = 100_000 if options["large"] else options["accounts"]
        db_name = f"{connection.settings_dict['NAME']}_{n}"
        started = time.perf_counter()
        builder = options["builder"] or ("copy" if n > COPY_ABOVE else "demo")
        self._portfolio_db(db_name, n, rebuild=options["rebuild"], builder=builder)
        built_s = time.perf_counter() - started
        account = Account.objects.order_by("pk")[Account.objects.count() // 2]
        owner = User.objects.get(username="csm1")
        pages = _pages(account_id=account.pk, owner_id=owner.pk)
        if options["only"]:
            pages = [p for p in pages if options["only"] in p.label]
        if options["in_process"]:
            self._in_process(pages, runs=options["runs"], profile_dir=options["profile"])
            return
        queries = self._queries(pages)

        port = options["port"] or _free_port()
        server = self._serve(db_name, port, workers=options["workers"])
        try:
            base = f"http://127.0.0.1:{port}"
            cookies = {u: self._login(port, u) for u in sorted({p.user for p in pages})}
            for page in pages:
                self._check(port, page.path, cookies[page.user])
            rows = self._drive(wrk, base, pages, cookies, queries, options)
        finally:
            server.terminate()
            server.wait(timeout=30)
        results = {
            "accounts": Account.objects.count(),
            "database": db_name,
            "measured_at": timezone.now().isoformat(timespec="seconds"),
            "setup_s": round(built_s, 1),
            "builder": builder,
            "load": {
                "tool": "wrk",
                "concurrency": options["concurrency"],
                "duration_s": options["duration"],
                "gunicorn_workers": options["workers"],
                "settings": "lifecycle.settings.bench (production, DEBUG=False)",
            },
            "pages": rows,
        }
        out = Path(options["output"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        self._table(rows)
        self.stdout.write(self.style.SUCCESS(f"Wrote {out}"))

    # -- the portfolio -----------------------------------------------------------

    def _portfolio_db(self, name: str, n: int, *, rebuild: bool, builder: str) -> None:
        """Point this process at `name`, creating and migrating it when missing, and
        build the demo portfolio there unless it already holds N accounts."""
        connection.settings_dict.setdefault("TEST", {})["NAME"] = name
        creation = connection.creation
        if rebuild:
            creation._destroy_test_db(name, verbosity=0)  # type: ignore[attr-defined]
        self.stdout.write(f"Database {name} (created or migrated as needed)...")
        creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=True)
        have = Account.objects.count()
        if have == n:
            self.stdout.write(f"Reusing {n:,} accounts.")
        else:
            self.stdout.write(
                f"Building a demo portfolio of {n:,} accounts with the {builder} builder "
                f"(had {have:,})..."
            )
            started = time.perf_counter()
            if builder == "copy":
                if have:  # the COPY builder starts from an empty database
                    connection.close()
                    creation._destroy_test_db(name, verbosity=0)  # type: ignore[attr-defined]
                    creation.create_test_db(
                        verbosity=0, autoclobber=True, serialize=False, keepdb=True
                    )
                build_large(accounts=n, seed=7, log=self.stdout.write)
            else:
                build_all(accounts=n, seed=7, reset=have > 0, log=self.stdout.write)
            self.stdout.write(f"Built in {time.perf_counter() - started:.0f}s")
        # What autovacuum does to a live database: planner statistics for the rows
        # just written, and visibility maps so counts can read indexes only.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    def _queries(self, pages: list[Page]) -> dict[str, int]:
        """Queries per request, counted in-process with the same user and database
        (the second request: the first warms per-process caches)."""
        setup_test_environment()
        counts = {}
        clients: dict[str, Client] = {}
        for page in pages:
            if page.user not in clients:
                clients[page.user] = Client()
                clients[page.user].force_login(User.objects.get(username=page.user))
            client = clients[page.user]
            client.get(page.path)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(page.path)
            if response.status_code != 200:
                raise CommandError(f"{page.path} answered {response.status_code}")
            counts[page.label] = len(ctx.captured_queries)
        return counts

    def _in_process(self, pages: list[Page], *, runs: int, profile_dir: str) -> None:
        """Median time of one request per page through the test client, how much of
        it the database took (time inside cursor.execute, rows fetched included), and
        this process's CPU time (what the page costs in Python, whatever else runs
        on the machine)."""
        setup_test_environment(debug=False)
        sql: list[float] = []

        def timed(execute: Any, query: str, params: Any, many: bool, context: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return execute(query, params, many, context)
            finally:
                sql.append(time.perf_counter() - t0)

        clients: dict[str, Client] = {}
        head = (
            f"{'page':<30} {'median ms':>9} {'p95 ms':>7} {'SQL ms':>7} {'rest ms':>7} "
            f"{'CPU ms':>7} {'queries':>7}"
        )
        self.stdout.write(head)
        for page in pages:
            if page.user not in clients:
                clients[page.user] = Client()
                clients[page.user].force_login(User.objects.get(username=page.user))
            client = clients[page.user]
            client.get(page.path)  # warm per-process caches (templates, content types)
            totals, sqls, cpus, counts = [], [], [], []
            with connection.execute_wrapper(timed):
                for _ in range(runs):
                    sql.clear()
                    t0, c0 = time.perf_counter(), time.process_time()
                    response = client.get(page.path)
                    totals.append(time.perf_counter() - t0)
                    cpus.append(time.process_time() - c0)
                    sqls.append(sum(sql))
                    counts.append(len(sql))
                    if response.status_code != 200:
                        raise CommandError(f"{page.path} answered {response.status_code}")
            total, spent = statistics.median(totals) * 1000, statistics.median(sqls) * 1000
            cpu = statistics.median(cpus) * 1000
            p95 = _percentile(totals, 95) * 1000
            self.stdout.write(
                f"{page.label:<30} {total:>9.1f} {p95:>7.1f} {spent:>7.1f} {total - spent:>7.1f} "
                f"{cpu:>7.1f} {max(counts):>7}"
            )
            if profile_dir:
                Path(profile_dir).mkdir(parents=True, exist_ok=True)
                profiler = cProfile.Profile()
                profiler.runcall(client.get, page.path)
                name = re.sub(r"[^a-z0-9]+", "_", page.label.lower()).strip("_")
                profiler.dump_stats(str(Path(profile_dir) / f"{name}.prof"))

    # -- the server --------------------------------------------------------------

    def _serve(self, db_name: str, port: int, *, workers: int) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "lifecycle.settings.bench",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",  # no TLS proxy in front here
            "DATABASE_URL": _database_url(db_name),
        }
        # The manifest storage needs collected static files, as a deployment has.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "lifecycle.wsgi:application",
                f"--workers={workers}",
                f"--bind=127.0.0.1:{port}",
                "--log-level=warning",
                # gunicorn.conf.py recycles a worker every ~2,000 requests (a leak
                # guard): the bare view reaches that within one run, and the page run
                # after it would pay a fresh worker's first requests.
                "--max-requests=0",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            # The access log (one JSON line a request, as in production) is written
            # but not shown: thousands of lines a run.
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return server
            except OSError:
                if server.poll() is not None:
                    raise CommandError("gunicorn exited at start") from None
                time.sleep(0.2)
        server.terminate()
        raise CommandError("gunicorn did not start within 60 s")

    def _request(
        self, port: int, method: str, path: str, *, headers: dict[str, str], body: str = ""
    ) -> tuple[int, str, SimpleCookie]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            cookies: SimpleCookie = SimpleCookie()
            for value in response.headers.get_all("Set-Cookie") or []:
                cookies.load(value)
            return response.status, response.read().decode(), cookies
        finally:
            conn.close()

    def _login(self, port: int, username: str) -> str:
        """Log in through the login form, as a person does; return the Cookie header."""
        status, page, cookies = self._request(port, "GET", "/login/", headers={})
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or token is None or "csrftoken" not in cookies:
            raise CommandError(f"login page answered {status} without a CSRF token")
        csrf = cookies["csrftoken"].value
        body = urllib.parse.urlencode(
            {
                "username": username,
                "password": DEMO_PASSWORD,
                "csrfmiddlewaretoken": html.unescape(token.group(1)),
            }
        )
        status, _, cookies = self._request(
            port,
            "POST",
            "/login/",
            headers={
                "Cookie": f"csrftoken={csrf}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            body=body,
        )
        if status != 302 or "sessionid" not in cookies:
            raise CommandError(f"logging in as {username} answered {status}")
        return f"sessionid={cookies['sessionid'].value}; csrftoken={csrf}"

    def _check(self, port: int, path: str, cookie: str) -> None:
        status, _, _ = self._request(port, "GET", path, headers={"Cookie": cookie})
        if status != 200:
            raise CommandError(f"{path} answered {status} under gunicorn")

    # -- the load ----------------------------------------------------------------

    def _wrk(
        self, wrk: str, url: str, cookie: str, options: dict[str, Any], *, warm_up: bool = False
    ) -> dict[str, Any]:
        """One wrk run. A run that completed no request (a shared machine stalled for
        the whole run) is run again, twice at most, rather than recorded as 0."""
        for attempt in range(3):
            figures = self._wrk_once(wrk, url, cookie, options)
            if figures["requests"] or warm_up:
                break
            self.stdout.write(f"  {url}: no request completed, running it again ({attempt + 1})")
        else:
            raise CommandError(f"{url}: no request completed in {options['duration']} s, 3 times")
        if figures["non_2xx_3xx"] or figures["socket_errors"]:
            raise CommandError(f"{url}: errors under load {figures}")
        figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
        return figures

    def _wrk_once(self, wrk: str, url: str, cookie: str, options: dict[str, Any]) -> dict[str, Any]:
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
            script.write(WRK_SCRIPT)
            script.flush()
            run = subprocess.run(
                [
                    wrk,
                    "-t1",
                    f"-c{options['concurrency']}",
                    f"-d{options['duration']}s",
                    "--timeout=10s",
                    f"-s{script.name}",
                    f"-HCookie: {cookie}",
                    url,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
        line = next((ln for ln in run.stdout.splitlines() if ln.startswith("BENCH ")), None)
        if line is None:
            raise CommandError(f"wrk printed no summary: {run.stdout} {run.stderr}")
        figures: dict[str, Any] = json.loads(line.removeprefix("BENCH "))
        return figures

    def _drive(
        self,
        wrk: str,
        base: str,
        pages: list[Page],
        cookies: dict[str, str],
        queries: dict[str, int],
        options: dict[str, Any],
    ) -> list[dict[str, Any]]:
        bare_cookie = cookies[pages[0].user]
        self.stdout.write("Warming up...")
        self._wrk(wrk, base + BARE, bare_cookie, {**options, "duration": 2}, warm_up=True)
        for page in pages:
            self._wrk(
                wrk, base + page.path, cookies[page.user], {**options, "duration": 2}, warm_up=True
            )
        self.stdout.write(f"Driving {len(pages)} pages, {options['duration']} s each...")
        bare_before = self._wrk(wrk, base + BARE, bare_cookie, options)["rps"]
        rows = []
        for page in pages:
            figures = self._wrk(wrk, base + page.path, cookies[page.user], options)
            bare_after = self._wrk(wrk, base + BARE, bare_cookie, options)["rps"]
            bare = statistics.mean([bare_before, bare_after])
            rows.append(
                {
                    "page": page.label,
                    "path": page.path,
                    "user": page.user,
                    "group": page.group,
                    "rps": round(figures["rps"], 1),
                    "p50_ms": round(figures["p50_us"] / 1000, 1),
                    "p95_ms": round(figures["p95_us"] / 1000, 1),
                    "queries": queries[page.label],
                    "bare_rps": round(bare, 1),
                    "share_of_bare": round(figures["rps"] / bare, 3),
                }
            )
            self.stdout.write(
                f"  {page.label}: {figures['rps']:.1f}/s, {100 * figures['rps'] / bare:.0f}%"
            )
            bare_before = bare_after
        return rows

    def _table(self, rows: list[dict[str, Any]]) -> None:
        head = f"{'page':<30} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'queries':>7} "
        self.stdout.write(head + f"{'bare/s':>7} {'share':>6}")
        for r in rows:
            self.stdout.write(
                f"{r['page']:<30} {r['rps']:>7.1f} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f} "
                f"{r['queries']:>7} {r['bare_rps']:>7.1f} {100 * r['share_of_bare']:>5.0f}%"
            )
