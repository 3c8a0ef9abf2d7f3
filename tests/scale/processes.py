"""Real processes for the scale-out test: a Redis server, gunicorn web hosts and
django-q2 clusters, each its own process group on localhost, on the test database."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url(application_name: str) -> str:
    """The test database, with a name for each process's connections (pg_stat_activity)."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER'] or 'postgres'}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}?application_name={application_name}"
    )


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[Any]
    log: Path
    killed: bool = False

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """The whole process group: gunicorn's and qcluster's children die with it."""
        self.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def stop(self) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=15)
        self.kill(signal.SIGKILL)
        if self.popen.poll() is None:
            self.popen.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@dataclass
class Hosts:
    """What the test started; `stop` ends all of it."""

    workdir: Path
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)
    web_urls: list[str] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
        log = self.workdir / f"{name}.log"
        popen = subprocess.Popen(
            argv,
            cwd=Path(settings.BASE_DIR),
            env={**self.env, **(env or {})},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM to every group at once, SIGKILL to what is left after `grace`."""
        for process in self.processes:
            if process.alive():
                process.kill(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(timeout=max(deadline - time.monotonic(), 0.01))
        for process in self.processes:
            process.kill(signal.SIGKILL)
            process.popen.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.tail()}" for p in self.processes)


def redis_server(hosts: Hosts) -> str:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    hosts.start(
        "redis",
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"redis-server did not answer:\n{hosts.logs()}")


def web_host(hosts: Hosts, name: str, workers: int = 2) -> str:
    port = free_port()
    hosts.start(
        name,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "lifecycle.wsgi",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
        ],
        env={"DATABASE_URL": database_url(name)},
    )
    url = f"http://127.0.0.1:{port}"
    hosts.web_urls.append(url)
    return url


def worker_cluster(hosts: Hosts, name: str, workers: int = 2) -> Process:
    process = hosts.start(
        name,
        [sys.executable, "manage.py", "qcluster"],
        env={"DATABASE_URL": database_url(name), "Q_CLUSTER_WORKERS": str(workers)},
    )
    hosts.workers.append(process)
    return process


def get_json(url: str, *, token: str = "", timeout: float = 10) -> tuple[int, Any]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"null")
        except ValueError:
            return exc.code, body.decode(errors="replace")


def post_json(url: str, body: Any, *, token: str, timeout: float = 10) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        return int(exc.code)


def wait_until(check: Any, what: str, hosts: Hosts, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        dead = [p.name for p in hosts.processes if not p.killed and not p.alive()]
        if dead:
            raise AssertionError(f"{dead} exited while waiting for {what}\n{hosts.logs()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{hosts.logs()}")
