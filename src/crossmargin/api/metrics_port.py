"""`crossmargin serve --metrics-port PORT`: the metrics without a token, on a loopback port of their own.

For a Prometheus (or an agent) on the same machine: it scrapes `http://127.0.0.1:PORT/metrics`
with no credentials to manage. The port listens on the loopback interface only, so nothing beyond
the machine reaches it; a scraper elsewhere uses the main port's `/metrics` with the admin token.
prometheus-client's own small HTTP server serves it, on a daemon thread, from the same registry
as the main port's `/metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Thread
from typing import Final
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

from crossmargin.api.metrics import Metrics

LOOPBACK: Final = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class MetricsPort:
    """The loopback server of `--metrics-port` and its thread."""

    server: WSGIServer
    thread: Thread

    @classmethod
    def start(cls, metrics: Metrics, port: int) -> MetricsPort:
        """Serve `metrics` at `http://127.0.0.1:{port}/metrics` (port 0: any free port, see `port`)."""
        server, thread = start_http_server(port, addr=LOOPBACK, registry=metrics.registry)
        return cls(server, thread)

    @property
    def port(self) -> int:
        """Return the port it listens on."""
        return int(self.server.server_address[1])

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
