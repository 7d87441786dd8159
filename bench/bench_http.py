"""HTTP requests/s and latency of the real server stack, loaded from a second process on loopback.

For each server (uvicorn as `crossmargin serve` runs it: its C HTTP parser httptools and the uvloop
event loop, both dependencies, which uvicorn picks by itself; uvicorn on its pure-Python h11 parser
and asyncio's loop, as `crossmargin serve` ran until stop 24, the before of the same run; granian) a
server process opens the service on a fresh SQLite journal with the
demo seeding, exactly as `crossmargin serve` composes it, and one worker answers. A separate load
process then drives, one after another:

- closed loop (CONNECTIONS keep-alive connections, one request in flight on each) to find the
  saturating rate of GET /api/v1/ping (the trivial endpoint), the public GET /api/v1/collateral
  (a read of the state, unsigned), signed POST /api/v1/borrowLend (1 USDC borrows, each accepted
  and durable before its reply) and signed GET /api/v1/capital/collateral; p50/p99 under
  saturation;
- open loop at half of each saturating rate: requests are sent on a fixed schedule and latency is
  counted from the scheduled send, so a stall is not hidden by the client waiting (no coordinated
  omission);
- graceful stop: SIGTERM while borrows are in flight; every acknowledged borrow must be in the
  journal afterwards, and the process must exit 0.

`edge-0` and `edge-2` run `crossmargin serve` as users do (demo seeded, no market maker, no risk
monitor), in one process and with `--edge-workers 2`: two worker processes parse and verify, and
send commands and the common reads to the sequencer process over the command channel
(`api/edge.py`, `api/edge_reads.py`). Their CPU is counted with the server's.

Signed requests are signed before each phase (distinct timestamps, so the replay guard accepts
each once). The load generator is asyncio on raw sockets with prepared bytes; its CPU time and the
server's are reported beside each phase, so a client-bound number can be seen as such (the machine
may have only two cores). Aims (issue 3): >= 5,000 signed borrows/s on one worker, >= 35% of the
trivial endpoint's rate, p99 < 10 ms at half the saturating rate.

    python -m bench.bench_http           # the whole run (< 3 min), writes bench/results/http.json
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.util
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any, Final

import httpx
from nacl.signing import SigningKey
from starlette.applications import Starlette

from bench.common import free_port, progress, save, wait_answering
from crossmargin.app.service import Service

HOST: Final = "127.0.0.1"
TOKEN: Final = "bench-http-token"
CONNECTIONS: Final = 64
ACCOUNTS: Final = CONNECTIONS
SATURATE_S: Final = 4.0
HALF_RATE_S: Final = 3.0
WARMUP_S: Final = 0.5
SIGNED_CAP_PER_S: Final = 12_000
WINDOW_MS: Final = 60_000
ROOT: Final = Path(__file__).resolve().parent.parent
AIM_BORROWS_PER_S: Final = 5_000
AIM_RATIO: Final = 0.35
AIM_P99_MS: Final = 10.0
EDGE_SERVERS: Final = ("edge-0", "edge-2")
"""`crossmargin serve` itself, in one process and with two edge worker processes (issue 13, step 7)."""

Scope = MutableMapping[str, Any]
LoadResult = tuple[list[dict[str, Any]], dict[str, Any]]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


# ---------------------------------------------------------------------------------------------
# The server process


class ServiceLifespan:
    """The application plus an ASGI lifespan that closes the service (journal snapshot) on shutdown."""

    def __init__(self, app: Starlette, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.service.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def asgi_app() -> ServiceLifespan:
    """Compose the server as `crossmargin serve` does (SQLite journal, wall clock, demo seeding)."""
    from crossmargin.api.app import create_app  # noqa: PLC0415 -- only in the server process
    from crossmargin.app.clock import WallClock  # noqa: PLC0415
    from crossmargin.bootstrap import open_service  # noqa: PLC0415
    from crossmargin.cli.serve import seed_demo  # noqa: PLC0415

    service = open_service(None, Path(os.environ["CROSSMARGIN_BENCH_DATA_DIR"]), WallClock(), None)
    seed_demo(service)
    return ServiceLifespan(create_app(service, TOKEN), service)


def serve(server: str, port: int) -> None:
    """Run one server with one worker until SIGTERM (`edge-N`: `crossmargin serve --edge-workers N`)."""
    if server.startswith("edge-"):
        sys.exit(_serve_edge(int(server.removeprefix("edge-")), port))
    if server == "granian":
        from granian import Granian  # noqa: PLC0415
        from granian.constants import Interfaces  # noqa: PLC0415
        from granian.log import LogLevels  # noqa: PLC0415

        Granian(
            "bench.bench_http:asgi_app",
            address=HOST,
            port=port,
            interface=Interfaces.ASGI,
            workers=1,
            factory=True,
            log_level=LogLevels.warning,
        ).serve()
        return
    import uvicorn  # noqa: PLC0415

    pure = server == "uvicorn-h11"
    # As `crossmargin serve` does: uvicorn re-raises SIGTERM after its graceful shutdown.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    config = uvicorn.Config(
        "bench.bench_http:asgi_app",
        factory=True,
        host=HOST,
        port=port,
        log_level="warning",
        lifespan="on",
        http="h11" if pure else "auto",  # auto: httptools when installed, as `crossmargin serve` runs
        loop="asyncio" if pure else "auto",  # auto: uvloop when installed
    )
    with contextlib.suppress(SystemExit):
        uvicorn.Server(config).run()


def _serve_edge(workers: int, port: int) -> int:
    """Run `crossmargin serve` as composed for users, with the demo but neither market maker nor risk monitor."""
    from rich.console import Console  # noqa: PLC0415 -- only in the server process

    from crossmargin.cli.serve import ServeOptions, run_server  # noqa: PLC0415

    options = ServeOptions(
        host=HOST,
        port=port,
        database_url=None,
        data_dir=Path(os.environ["CROSSMARGIN_BENCH_DATA_DIR"]),
        clock="wall",
        demo=True,
        assets_file=None,
        admin_token=TOKEN,
        market_maker=False,
        risk_monitor=False,
        edge_workers=workers,
        rate_limits=None,  # a throughput bench: the limits would measure 429s (the default is on)
    )
    return run_server(options, Console(quiet=True))


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------------------------------------
# The load process


@dataclass
class Phase:
    """What one load phase measured."""

    name: str
    mode: str
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    server_cpu: float
    client_cpu: float
    target_rps: float | None = None
    exhausted: bool = False
    acknowledged: int = 0


@dataclass
class Account:
    """A subaccount's key, as the load process signs with it."""

    api_key: str
    secret: str


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime (clock ticks): granian's worker is a child of the server process.
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _process_tree_cpu(pid: int) -> float:
    total = _cpu_seconds(pid)
    for child in Path(f"/proc/{pid}/task").iterdir():
        children = child / "children"
        if children.exists():
            total += sum(_cpu_seconds(int(c)) for c in children.read_text().split())
    return total


def _request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", *(f"{k}: {v}" for k, v in headers.items())]
    if body or method != "GET":
        lines += ["Content-Type: application/json; charset=utf-8", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _signed(account: Account, key: SigningKey, instruction: str, pairs: str, timestamp: int) -> dict[str, str]:
    text = f"instruction={instruction}{'&' + pairs if pairs else ''}&timestamp={timestamp}&window={WINDOW_MS}"
    signature = base64.b64encode(key.sign(text.encode()).signature).decode()
    return {
        "X-API-Key": account.api_key,
        "X-Signature": signature,
        "X-Timestamp": str(timestamp),
        "X-Window": str(WINDOW_MS),
    }


BORROW_BODY: Final = b'{"quantity":"1","side":"Borrow","symbol":"USDC"}'
BORROW_PAIRS: Final = "quantity=1&side=Borrow&symbol=USDC"


def presign(kind: str, accounts: list[Account], total: int) -> list[list[bytes]]:
    """Return `total` requests of a kind, spread over one list per connection, each signature new."""
    per_connection = max(1, total // CONNECTIONS + 1)
    now = int(time.time() * 1000)
    lists: list[list[bytes]] = []
    for connection in range(CONNECTIONS):
        account = accounts[connection % len(accounts)]
        key = SigningKey(base64.b64decode(account.secret))
        requests: list[bytes] = []
        for index in range(per_connection):
            timestamp = now - index  # distinct per key, never in the future, valid for WINDOW_MS
            if kind == "borrow":
                headers = _signed(account, key, "borrowLendExecute", BORROW_PAIRS, timestamp)
                requests.append(_request("POST", "/api/v1/borrowLend", headers, BORROW_BODY))
            else:
                headers = _signed(account, key, "collateralQuery", "", timestamp)
                requests.append(_request("GET", "/api/v1/capital/collateral", headers))
        lists.append(requests)
    return lists


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lowered = head.lower()
    start = lowered.find(b"content-length:")
    if start >= 0:
        end = lowered.index(b"\r\n", start)
        length = int(lowered[start + 15 : end])
        if length:
            await reader.readexactly(length)
    return status


@dataclass
class _Tally:
    started: float
    warm_until: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    done_at: float = 0.0
    exhausted: bool = False
    acknowledged: int = 0

    def record(self, status: int, begun: float, finished: float) -> None:
        self.acknowledged += status == 200
        if begun >= self.warm_until:
            self.latencies.append(finished - begun)
            self.statuses[status] += 1
            self.done_at = max(self.done_at, finished)


async def _run_phase(
    port: int, requests: list[list[bytes]], duration: float, rate: float | None
) -> tuple[_Tally, float]:
    connections = [await asyncio.open_connection(HOST, port) for _ in range(CONNECTIONS)]
    started = time.perf_counter()
    tally = _Tally(started, started + WARMUP_S)
    deadline = started + WARMUP_S + duration

    async def closed(index: int) -> None:
        reader, writer = connections[index]
        for request in requests[index]:
            begun = time.perf_counter()
            if begun >= deadline:
                return
            status = await _exchange(reader, writer, request)
            tally.record(status, begun, time.perf_counter())
        tally.exhausted = True

    async def scheduled(index: int) -> None:
        assert rate is not None
        reader, writer = connections[index]
        for number, request in enumerate(requests[index]):
            due = started + (number * CONNECTIONS + index) / rate
            if due >= deadline:
                return
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            status = await _exchange(reader, writer, request)
            tally.record(status, due, time.perf_counter())
        tally.exhausted = True

    await asyncio.gather(*(closed(i) if rate is None else scheduled(i) for i in range(CONNECTIONS)))
    for _, writer in connections:
        writer.close()
    return tally, min(time.perf_counter(), deadline) - (started + WARMUP_S)


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else float("nan")


def measure(
    name: str, port: int, server_pid: int, requests: list[list[bytes]], duration: float, rate: float | None = None
) -> Phase:
    """Run one phase and return what it measured."""
    server_before, client_before = _process_tree_cpu(server_pid), time.process_time()
    tally, seconds = asyncio.run(_run_phase(port, requests, duration, rate))
    server_cpu = (_process_tree_cpu(server_pid) - server_before) / (seconds + WARMUP_S)
    client_cpu = (time.process_time() - client_before) / (seconds + WARMUP_S)
    ordered = sorted(tally.latencies)
    return Phase(
        name=name,
        mode="closed" if rate is None else "open",
        seconds=round(seconds, 3),
        requests=len(ordered),
        rps=round(len(ordered) / seconds, 1),
        p50_ms=round(_percentile(ordered, 0.50), 3),
        p99_ms=round(_percentile(ordered, 0.99), 3),
        statuses={str(code): count for code, count in sorted(tally.statuses.items())},
        server_cpu=round(server_cpu, 2),
        client_cpu=round(client_cpu, 2),
        target_rps=None if rate is None else round(rate, 1),
        exhausted=tally.exhausted,
        acknowledged=tally.acknowledged,
    )


async def _graceful(port: int, server_pid: int, requests: list[list[bytes]]) -> dict[str, Any]:
    """Keep borrows in flight, send SIGTERM, and count what was answered."""
    acknowledged = 0
    unanswered = 0
    sent_stop = asyncio.Event()

    async def connection(index: int) -> None:
        nonlocal acknowledged, unanswered
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            return
        for request in requests[index]:
            try:
                status = await _exchange(reader, writer, request)
            except (OSError, asyncio.IncompleteReadError):
                unanswered += 1
                return
            acknowledged += status == 200
        writer.close()

    async def stop_soon() -> None:
        await asyncio.sleep(0.5)
        os.kill(server_pid, signal.SIGTERM)
        sent_stop.set()

    started = time.perf_counter()
    await asyncio.gather(stop_soon(), *(connection(i) for i in range(CONNECTIONS)))
    return {"acknowledged": acknowledged, "unanswered": unanswered, "seconds": round(time.perf_counter() - started, 3)}


def load(port: int, server_pid: int, accounts: list[Account], results: Queue[LoadResult]) -> None:
    """The load process: every phase against one server, results put on the queue."""
    phases: list[Phase] = []
    unsigned = {
        name: [[_request("GET", f"/api/v1/{name}", {})] * 20_000 for _ in range(CONNECTIONS)]
        for name in ("ping", "collateral")
    }
    for name, requests in unsigned.items():
        phases.append(measure(name, port, server_pid, requests, SATURATE_S))
    for kind, name in (("borrow", "borrowLend"), ("collateral", "capital/collateral")):
        progress(f"signing {name} requests")
        requests = presign(kind, accounts, int(SIGNED_CAP_PER_S * (SATURATE_S + WARMUP_S)))
        phases.append(measure(name, port, server_pid, requests, SATURATE_S))
    for saturated in list(phases):
        rate = saturated.rps / 2
        if saturated.name in unsigned:
            requests = unsigned[saturated.name]
        else:
            kind = "borrow" if saturated.name == "borrowLend" else "collateral"
            requests = presign(kind, accounts, int(rate * (HALF_RATE_S + WARMUP_S)) + CONNECTIONS)
        phases.append(measure(saturated.name, port, server_pid, requests, HALF_RATE_S, rate))
    graceful = asyncio.run(_graceful(port, server_pid, presign("borrow", accounts, 20_000)))
    results.put(([asdict(phase) for phase in phases], graceful))


# ---------------------------------------------------------------------------------------------
# The orchestration


def _start(server: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    # This tree's code, never an installed copy of the package.
    python_path = f"{ROOT}{os.pathsep}{ROOT / 'src'}"
    env = {**os.environ, "CROSSMARGIN_BENCH_DATA_DIR": str(data_dir), "PYTHONPATH": python_path}
    process = subprocess.Popen(  # the server: a process of its own
        [sys.executable, "-m", "bench.bench_http", "serve", server, str(port)], cwd=ROOT, env=env
    )
    wait_answering(process, port, 60)
    return process, port


def _set_up_accounts(port: int) -> list[Account]:
    accounts = []
    with httpx.Client(base_url=f"http://{HOST}:{port}", headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        for _ in range(ACCOUNTS):
            created = client.post("/admin/v1/accounts", json={}).raise_for_status().json()
            deposit = {"subaccountId": created["subaccountId"], "symbol": "BTC", "quantity": "2"}
            client.post("/admin/v1/deposits", json=deposit).raise_for_status()
            accounts.append(Account(created["apiKey"], created["apiSecret"]))
    return accounts


def _journaled_borrows(data_dir: Path) -> int:
    from crossmargin.bootstrap import open_journal  # noqa: PLC0415

    journal = open_journal(None, data_dir)
    try:
        return sum('"side":"Borrow"' in record.command for record in journal.read())
    finally:
        journal.close()


def run_server(server: str) -> dict[str, Any]:
    """Start a server, load it from a second process, stop it with SIGTERM, check the journal."""
    with tempfile.TemporaryDirectory(prefix="crossmargin-bench-http-") as directory:
        data_dir = Path(directory)
        progress(f"{server}: starting")
        process, port = _start(server, data_dir)
        try:
            accounts = _set_up_accounts(port)
            context = multiprocessing.get_context("spawn")
            results: Queue[LoadResult] = context.Queue()
            loader = context.Process(target=load, args=(port, process.pid, accounts, results))
            loader.start()
            phases, graceful = results.get(timeout=170)
            loader.join()
            exit_code = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        acknowledged = sum(p["acknowledged"] for p in phases if p["name"] == "borrowLend") + graceful["acknowledged"]
        journaled = _journaled_borrows(data_dir)
    graceful |= {"exit_code": exit_code, "acknowledged_borrows": acknowledged, "journaled_borrows": journaled}
    graceful["every_acknowledged_borrow_journaled"] = journaled >= acknowledged
    return {"phases": phases, "graceful_stop": graceful}


def _phase(results: dict[str, Any], name: str, mode: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in results["phases"] if p["name"] == name and p["mode"] == mode)
    return found


def summarize(server: str, results: dict[str, Any]) -> dict[str, Any]:
    """Return the ratios and aims of one server's run."""
    ping = _phase(results, "ping", "closed")
    borrow = _phase(results, "borrowLend", "closed")
    collateral = _phase(results, "capital/collateral", "closed")
    borrow_half = _phase(results, "borrowLend", "open")
    collateral_half = _phase(results, "capital/collateral", "open")
    public = _phase(results, "collateral", "closed")
    public_half = _phase(results, "collateral", "open")
    summary = {
        "ping_rps": ping["rps"],
        "borrow_rps": borrow["rps"],
        "collateral_rps": collateral["rps"],
        "borrow_to_ping": round(borrow["rps"] / ping["rps"], 3),
        "collateral_to_ping": round(collateral["rps"] / ping["rps"], 3),
        "borrow_p99_ms_at_half_rate": borrow_half["p99_ms"],
        "collateral_p99_ms_at_half_rate": collateral_half["p99_ms"],
        "public_collateral_rps": public["rps"],
        "public_collateral_p99_ms_at_half_rate": public_half["p99_ms"],
        "aim_borrows_per_s": borrow["rps"] >= AIM_BORROWS_PER_S,
        "aim_borrow_ratio": borrow["rps"] / ping["rps"] >= AIM_RATIO,
        "aim_p99_at_half_rate": borrow_half["p99_ms"] < AIM_P99_MS,
    }
    print(
        f"{server:>18}: ping {ping['rps']:>8.0f}/s  borrow {borrow['rps']:>7.0f}/s "
        f"({summary['borrow_to_ping']:.0%})  collateral {collateral['rps']:>7.0f}/s "
        f"({summary['collateral_to_ping']:.0%})  p99 at half rate: borrow {borrow_half['p99_ms']:.2f} ms, "
        f"collateral {collateral_half['p99_ms']:.2f} ms  | public GET /api/v1/collateral {public['rps']:>7.0f}/s, "
        f"p99 at half rate {public_half['p99_ms']:.2f} ms  | graceful stop: {results['graceful_stop']}"
    )
    return summary


def servers() -> list[str]:
    """Return the servers to compare: uvicorn always, the others when installed, then edge workers.

    `CROSSMARGIN_BENCH_HTTP_SERVERS` (comma-separated, e.g. `uvicorn,edge-0,edge-2`) picks others.
    """
    chosen = os.environ.get("CROSSMARGIN_BENCH_HTTP_SERVERS")
    if chosen:
        return [name.strip() for name in chosen.split(",") if name.strip()]
    found = ["uvicorn", "uvicorn-h11"]
    if importlib.util.find_spec("granian") is not None:
        found.append("granian")
    return [*found, *EDGE_SERVERS]


def main() -> None:
    """Run the comparison and write bench/results/http.json."""
    started = time.perf_counter()
    print(f"HTTP: {CONNECTIONS} connections from a second process, {os.cpu_count()} CPUs")
    runs: dict[str, Any] = {}
    summaries: dict[str, Any] = {}
    for server in servers():
        runs[server] = run_server(server)
        summaries[server] = summarize(server, runs[server])
    comparison = {}
    if "uvicorn-h11" in summaries and "uvicorn" in summaries:
        for metric in ("ping_rps", "borrow_rps", "collateral_rps"):
            comparison[f"uvicorn_to_uvicorn_h11_{metric}"] = round(
                summaries["uvicorn"][metric] / summaries["uvicorn-h11"][metric], 3
            )
        print(f"uvicorn as served (httptools, uvloop) vs on h11 and asyncio: {comparison}")
    if "granian" in summaries:
        for metric in ("ping_rps", "borrow_rps", "collateral_rps"):
            comparison[f"granian_to_uvicorn_{metric}"] = round(
                summaries["granian"][metric] / summaries["uvicorn"][metric], 3
            )
        print(f"granian vs uvicorn: { {key: value for key, value in comparison.items() if 'granian' in key} }")
    path = save(
        "http",
        {
            "cpus": os.cpu_count(),
            "connections": CONNECTIONS,
            "saturate_s": SATURATE_S,
            "half_rate_s": HALF_RATE_S,
            "aims": {"borrows_per_s": AIM_BORROWS_PER_S, "borrow_to_ping": AIM_RATIO, "p99_ms": AIM_P99_MS},
            "summary": summaries,
            "comparisons": comparison,
            "runs": runs,
            "wall_s": round(time.perf_counter() - started, 1),
        },
    )
    print(f"wrote {path} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        main()
