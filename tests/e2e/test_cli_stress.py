"""`crossmargin stress`, end to end: a small seeded run writes its distributions, plots and page, the same on any executor.

The runs are small (a handful of scenarios of a few accounts over ten steps, with frequent
market-wide jumps so some scenarios share losses) and use local processes; Ray's own check is
`tests/integration/test_stress_ray.py`.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from crossmargin.cli.main import main
from crossmargin.simulation.fanout import check_reachable

SMALL = ["--scenarios", "6", "--accounts", "5", "--steps", "10", "--jump-probability", "0.2", "--seed", "1"]
DISTRIBUTIONS = ("badDebtUsd", "fundDrawdownUsd", "fundDeficitBeforeSharingUsd", "lossToLendersUsd", "liquidations")
WORST_PLOTS = ("prices", "insurance_fund", "liquidations", "utilization", "usdc_borrowed_by_source")


def stress(out: Path, *arguments: str) -> int:
    return main(["stress", *arguments, "--out", str(out)])


def test_a_seeded_stress_run_writes_percentiles_plots_and_the_worst_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stress(tmp_path / "two", *SMALL, "--workers", "2") == 0
    printed = capsys.readouterr().out
    assert "6 scenarios on 2 local process(es)" in printed
    assert "6 of 6 scenarios done" in printed, "without a terminal, progress comes as lines"
    assert "p99" in printed
    assert "Worst scenario: #" in printed
    report = json.loads((tmp_path / "two" / "stress.json").read_text(encoding="utf-8"))
    assert report["settings"]["scenarios"] == 6
    assert len(report["scenarios"]) == 6
    bad_debt = report["distributions"]["badDebtUsd"]
    assert set(bad_debt) == {"unit", "p50", "p95", "p99", "max", "scenariosAboveZero"}
    assert bad_debt["max"] == max((row["badDebtUsd"] for row in report["scenarios"]), key=float)
    assert report["worstScenario"]["badDebtUsd"] == bad_debt["max"]
    assert float(bad_debt["max"]) > 0, "the storm leaves bad debt in some scenario"
    for name in DISTRIBUTIONS:
        assert (tmp_path / "two" / f"distribution_{name}.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    worst = tmp_path / "two" / "worst-scenario"
    for name in WORST_PLOTS:
        assert (worst / f"{name}.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    worst_report = json.loads((worst / "report.json").read_text(encoding="utf-8"))
    assert worst_report["settings"]["scenario"] == report["worstScenario"]["index"]
    assert min(float(value) for value in worst_report["series"]["insuranceFundBeforeLossSharingUsd"]) < 0
    page = (tmp_path / "two" / "stress.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 6 + len(WORST_PLOTS)
    assert "https://" not in page, "self-contained: no CDN"

    assert stress(tmp_path / "one", *SMALL, "--workers", "1") == 0
    first = (tmp_path / "two" / "stress.json").read_bytes()
    assert (tmp_path / "one" / "stress.json").read_bytes() == first, "the same seed, any worker count, the same report"


def test_a_stress_run_can_bootstrap_a_price_file(tmp_path: Path) -> None:
    prices = tmp_path / "prices.csv"
    rows = [f"{1767225600000 + 60_000 * minute},BTC,{60000 - 900 * minute}" for minute in range(10)]
    prices.write_text("timestamp,symbol,price\n" + "\n".join(rows) + "\n", encoding="utf-8")
    arguments = ["--scenarios", "3", "--accounts", "5", "--steps", "8", "--price-file", str(prices), "--no-ray"]
    assert stress(tmp_path / "out", *arguments) == 0
    report = json.loads((tmp_path / "out" / "stress.json").read_text(encoding="utf-8"))
    assert report["settings"]["pricePath"] == "bootstrap of prices.csv"
    worst = json.loads((tmp_path / "out" / "worst-scenario" / "report.json").read_text(encoding="utf-8"))
    assert float(worst["finalPrices"]["BTC"]) < 60000, "every move of the file is a fall"


def test_an_unreachable_ray_cluster_is_refused_quickly_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        started = time.monotonic()
        assert stress(tmp_path / "out", "--scenarios", "2", "--ray", f"127.0.0.1:{port}") == 1
    assert time.monotonic() - started < 10
    error = capsys.readouterr().err
    assert f"error: cannot reach the Ray cluster at 127.0.0.1:{port}" in error
    assert "ray start --head" in error
    assert not (tmp_path / "out").exists(), "nothing is written for a refused run"


def _serve_once(answer: bytes) -> tuple[socket.socket, threading.Thread]:
    """Listen on a loopback port; answer the first connection with `answer` (after reading what it sends)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def reply() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(1024)
            connection.sendall(answer)
            time.sleep(0.2)

    serving = threading.Thread(target=reply, daemon=True)
    serving.start()
    return listener, serving


def test_a_port_that_answers_but_not_as_ray_is_refused_quickly_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listener, serving = _serve_once(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    with listener:
        port = listener.getsockname()[1]
        started = time.monotonic()
        assert stress(tmp_path / "out", "--scenarios", "2", "--ray", f"127.0.0.1:{port}") == 1
        serving.join(5)
    assert time.monotonic() - started < 10, "refused before ray.init, which retries for minutes"
    error = capsys.readouterr().err
    assert f"error: 127.0.0.1:{port} answers, but not as a Ray cluster" in error
    assert not (tmp_path / "out").exists(), "nothing is written for a refused run"


def test_a_port_that_answers_http2_as_grpc_does_passes_the_check() -> None:
    settings = bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # an empty SETTINGS frame: a gRPC server's first words
    listener, serving = _serve_once(settings)
    with listener:
        check_reachable(f"127.0.0.1:{listener.getsockname()[1]}")
        serving.join(5)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--ray", "127.0.0.1:1", "--workers", "2"], "choose one"),
        (["--workers", "0"], "--workers must be >= 1"),
        (["--scenarios", "0"], "scenarios and steps must be >= 1"),
        (["--jump-probability", "1.5"], "between 0 and 1"),
        (["--ray", "nowhere"], "is not an address"),
        (["--price-file", "missing.csv"], "cannot read missing.csv"),
    ],
)
def test_bad_arguments_are_refused_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert stress(tmp_path / "out", "--accounts", "3", *arguments) == 1
    assert message in capsys.readouterr().err
