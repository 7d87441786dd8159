"""One HTTP client for the tests' plain requests to the local servers they start.

`httpx.get(...)`, `httpx.request(...)` and the like build a new client for every call, with a new
TLS context that loads the CA bundle: about 25 ms a call on the 2-core machine, against about 1 ms
through one client made once (measured on `/api/v1/ping`). Tests that send thousands of requests
(filling a small disk one deposit at a time, loading a server until it is killed) spent most of
their time there.

The shared client keeps no connection alive between requests, so each request opens its own
connection, as the per-call functions did: a server killed, restarted or stopped between two
requests is met exactly as before. httpx clients may be used from several threads at once.
"""

from __future__ import annotations

from typing import Final

import httpx

HTTP: Final = httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=0))
"""Requests to local servers: `HTTP.get(url, ...)`, `HTTP.request(method, url, ...)`, each on a new connection."""
