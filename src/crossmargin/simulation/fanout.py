"""Fan a stress run's scenarios out: serially, on local processes, or on Ray; the same outcomes each way.

Scenarios travel in chunks of consecutive indices (`chunks`); a worker runs a chunk with
`stress.run_chunk` and sends back its outcomes, which are put in index order, so the result never
depends on which worker ran what or in what order chunks finished. Every executor calls
`progress(done)` with the number of scenarios finished after each chunk.

Chunk size: one scenario costs from about 0.1 s (a few accounts, a few dozen steps) to seconds.
A Ray task costs about a millisecond to schedule on one machine, more across a network, plus the
transfer of its arguments (the spec, which carries a bootstrap file's steps; Ray gets it once,
through `ray.put`; a process pool pickles it with every task). Aiming at `CHUNKS_PER_WORKER` = 4
chunks per worker keeps every worker busy until the end (a slow last chunk delays the run by at
most about a quarter of a worker's share) and moves the progress bar; the cap `CHUNK_MAX` = 16
keeps the chunks of a large run from growing past that, while a task still carries 1.6 s to many
seconds of work, so its cost stays well under 1% (1,000 scenarios are 63 tasks, not 1,000).

Ray is optional (`pip install 'crossmargin[ray]'`): `run_ray` imports it on use. Connecting to
`--ray ADDRESS` first checks, within `CONNECT_TIMEOUT_S`, that something listens there and speaks
HTTP/2 as Ray's gRPC servers do (it answers the client preface with a SETTINGS frame), because
`ray.init` itself retries an unreachable address, or a port that is not Ray's, for minutes. A local
Ray (no address) starts with `num_cpus` = the workers asked for and no dashboard; its workers
inherit the driver's environment and working directory, so they import the very `crossmargin` the
driver runs. A cluster's nodes need `crossmargin` installed (the same version: outcomes are
compared per seed).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from types import ModuleType
from typing import Final

from crossmargin.simulation.stress import ScenarioOutcome, StressSpec, run_chunk

CHUNK_MAX: Final = 16
CHUNKS_PER_WORKER: Final = 4
CONNECT_TIMEOUT_S: Final = 5.0

Progress = Callable[[int], None]


class FanOutError(RuntimeError):
    """The scenarios cannot be fanned out: Ray is missing or its cluster cannot be reached."""


def chunk_size(scenarios: int, workers: int) -> int:
    """Return how many scenarios one task carries: about CHUNKS_PER_WORKER chunks per worker, at most CHUNK_MAX."""
    return max(1, min(CHUNK_MAX, -(-scenarios // (max(workers, 1) * CHUNKS_PER_WORKER))))


def chunks(scenarios: int, size: int) -> list[range]:
    """Return the scenario indices 0..scenarios-1 cut into consecutive ranges of at most `size`."""
    return [range(start, min(start + size, scenarios)) for start in range(0, scenarios, size)]


def run_serial(spec: StressSpec, progress: Progress | None = None) -> list[ScenarioOutcome]:
    """Run every scenario in this process, in index order (the baseline)."""
    outcomes: list[ScenarioOutcome] = []
    for indices in chunks(spec.scenarios, chunk_size(spec.scenarios, 1)):
        outcomes.extend(run_chunk(spec, indices))
        _tell(progress, len(outcomes))
    return outcomes


def run_processes(spec: StressSpec, workers: int, progress: Progress | None = None) -> list[ScenarioOutcome]:
    """Run the scenarios on `workers` local processes (concurrent.futures), chunk by chunk."""
    size = chunk_size(spec.scenarios, workers)
    found: list[ScenarioOutcome] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending = {pool.submit(run_chunk, spec, indices) for indices in chunks(spec.scenarios, size)}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                found.extend(future.result())
            _tell(progress, len(found))
    return in_order(found)


def run_ray(
    spec: StressSpec, workers: int, address: str | None = None, progress: Progress | None = None
) -> list[ScenarioOutcome]:
    """Run the scenarios on Ray: a cluster at `address`, or a local Ray with `workers` CPUs; shut it down after."""
    ray = start_ray(workers, address)
    try:
        cpus = int(ray.cluster_resources().get("CPU", workers)) if address is not None else workers
        return run_on_ray(ray, spec, cpus, progress)
    finally:
        ray.shutdown()


def start_ray(workers: int, address: str | None = None) -> ModuleType:
    """Join the Ray cluster at `address` (checked first) or start a local one with `workers` CPUs; return `ray`."""
    ray = _import_ray()
    if address is not None:
        check_reachable(address)
    options: dict[str, object] = {"include_dashboard": False, "logging_level": "ERROR", "log_to_driver": False}
    if address is None:
        options["num_cpus"] = workers
    else:
        options["address"] = address
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise FanOutError(
            f"cannot start or join Ray at {address or 'a local Ray'}: {error}{_auth_hint(address)}"
        ) from None
    return ray


def _auth_hint(address: str | None) -> str:
    """Say how to join a cluster with token authentication, when joining one without saying so may be why."""
    if address is None or os.environ.get("RAY_AUTH_MODE"):
        return ""
    return (
        ". If the cluster uses token authentication (Ray 2.59 and later turn it on for `ray start --head`), "
        "run with RAY_AUTH_MODE=token on a machine that has the cluster's token (ray get-auth-token)"
    )


def run_on_ray(ray: ModuleType, spec: StressSpec, cpus: int, progress: Progress | None = None) -> list[ScenarioOutcome]:
    """Run the scenarios on the Ray `ray` is connected to, in chunks sized for `cpus`; leave Ray running."""
    remote_chunk = ray.remote(run_chunk)
    shared = ray.put(spec)
    size = chunk_size(spec.scenarios, cpus)
    pending = [remote_chunk.remote(shared, indices) for indices in chunks(spec.scenarios, size)]
    found: list[ScenarioOutcome] = []
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        for outcomes in ray.get(done):
            found.extend(outcomes)
        _tell(progress, len(found))
    return in_order(found)


def ray_available() -> bool:
    """Return whether Ray can be imported here."""
    try:
        _import_ray()
    except FanOutError:
        return False
    return True


def _import_ray() -> ModuleType:
    try:
        import ray  # noqa: PLC0415 -- optional, and slow to import
    except ImportError:
        raise FanOutError("Ray is not installed: pip install 'crossmargin[ray]', or run with --no-ray") from None
    return ray


def check_reachable(address: str) -> None:
    """Raise `FanOutError` unless something accepts a TCP connection at ADDRESS (host:port, ray://host:port)."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise FanOutError(
            f"--ray {address!r} is not an address: write HOST:PORT (e.g. 10.0.0.5:6379) or ray://HOST:PORT"
        )
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S) as connection:
            speaks_grpc = _answers_http2(connection)
    except OSError as error:
        raise FanOutError(
            f"cannot reach the Ray cluster at {address} ({error}); start it with `ray start --head` there, "
            "or leave out --ray to run on a local Ray"
        ) from None
    if not speaks_grpc:
        raise FanOutError(
            f"{address} answers, but not as a Ray cluster (no gRPC there): give the port `ray start --head` "
            "printed (6379 by default), or ray://HOST:10001 for a Ray Client server"
        )


HTTP2_PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
"""The HTTP/2 client connection preface, then an empty SETTINGS frame (RFC 9113 3.4)."""
FRAME_HEADER_BYTES: Final = 9
SETTINGS_FRAME: Final = 4


def _answers_http2(connection: socket.socket) -> bool:
    """Return whether the server answers an HTTP/2 preface with a SETTINGS frame, as every gRPC server does first."""
    connection.sendall(HTTP2_PREFACE)
    header = b""
    while len(header) < FRAME_HEADER_BYTES:
        try:
            chunk = connection.recv(FRAME_HEADER_BYTES - len(header))
        except TimeoutError:
            return False  # it listens, but says nothing to an HTTP/2 client
        if not chunk:
            return False
        header += chunk
    return header[3] == SETTINGS_FRAME


def in_order(outcomes: Sequence[ScenarioOutcome]) -> list[ScenarioOutcome]:
    """Return the outcomes sorted by scenario index."""
    return sorted(outcomes, key=lambda outcome: outcome.index)


def _tell(progress: Progress | None, done: int) -> None:
    if progress is not None:
        progress(done)


def default_workers() -> int:
    """Return this machine's cores available to this process (at least 1)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
