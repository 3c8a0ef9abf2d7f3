"""Stand-ins for the endpoints our code or the sandbox talk to (our webhook URL,
HubSpot's documented answers): a real HTTP server from pytest-httpserver that
hands every request to the test's `answer`."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


def _free(ports: range) -> Iterator[int]:
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        yield port


@contextmanager
def recording_server(
    answer: Callable[[Request], Response], *, ports: range, method: str = "POST"
) -> Iterator[HTTPServer]:
    """A server on the first free port of `ports` (each suite keeps to its own
    range) where `answer` handles every request of `method` ("__ALL": any).
    Threaded: HubSpot delivers several batches at once, and the tests watch how
    many overlap."""
    for port in _free(ports):
        server = HTTPServer(host="127.0.0.1", port=port, threaded=True)
        try:
            server.start()
        except OSError:  # another worker took the port between probe and bind
            continue
        break
    else:
        raise RuntimeError(f"no free port in {ports}")
    server.expect_request(re.compile(".*"), method=method).respond_with_handler(answer)
    try:
        yield server
    finally:
        server.clear()
        server.stop()
