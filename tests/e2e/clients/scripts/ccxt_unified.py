"""ccxt's own unified test suite for `backpack`, run against a crossmargin server.

Usage (inside .venv-ccxt): ccxt_unified.py BASE_URL API_KEY API_SECRET rest|ws. ccxt's package ships
the suite it runs against the real exchanges (`ccxt/test/tests_init.py`, with `--private` for the
signed methods and `--ws` for ccxt.pro's watch methods). The suite refuses to run from
site-packages and reads `keys.json` and `skip-tests.json` three folders above its own, so this
script builds that tree in a temporary folder: the suite's folder copied, the rest of the package
linked, `keys.json` pointing `backpack`'s REST and WebSocket URLs at the server, and our
`ccxt-unified-skips.json` (each skip names why the failure is ccxt's, not the server's). Before the
private run the account trades once (a market buy of BTC) so trades, orders and the ledger are not
empty. Prints one JSON object: the suite's exit status, each `[TEST_FAILURE]` line, and which
methods it tested.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import ccxt

HERE = Path(__file__).resolve().parent
SKIPS = HERE.parent / "ccxt-unified-skips.json"
SUITE_TIMEOUT_S = 150
TESTED = re.compile(r"\[INFO\] TESTING DONE\s+backpack (\w+)")


def build_tree(root: Path) -> Path:
    """Lay out ccxt's package under root/python with a real copy of its test folder; return the suite's folder."""
    site = Path(ccxt.__file__).resolve().parent
    package = root / "python" / "ccxt"
    package.mkdir(parents=True)
    for entry in site.iterdir():
        if entry.name == "test":
            shutil.copytree(entry, package / "test", ignore=shutil.ignore_patterns("__pycache__"))
        elif entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    return package / "test"


def write_settings(root: Path, base_url: str, api_key: str, api_secret: str) -> None:
    """Write keys.json (credentials and the server's URLs) and skip-tests.json beside the tree."""
    ws_url = base_url.replace("http://", "ws://", 1) + "/"
    urls = {"api": {"public": base_url, "private": base_url, "ws": {"public": ws_url, "private": ws_url}}}
    keys = {"backpack": {"apiKey": api_key, "secret": api_secret, "urls": urls}}
    (root / "keys.json").write_text(json.dumps(keys))
    skips = json.loads(SKIPS.read_text())
    (root / "skip-tests.json").write_text(json.dumps({"backpack": skips["backpack"]}))


def trade_once(base_url: str, api_key: str, api_secret: str) -> None:
    """Buy a little BTC at market, so the account has a fill, an order and a ledger to read back."""
    exchange = ccxt.backpack(
        {"apiKey": api_key, "secret": api_secret, "urls": {"api": {"public": base_url, "private": base_url}}}
    )
    exchange.load_markets()
    exchange.create_order("BTC/USDC", "market", "buy", 0.01)


BUSY_SYMBOLS = (
    "BTC/USDC",
    "ETH/USDC",
    "SOL/USDC",
    "USDT/USDC",
    "BTC/USDC:USDC",
    "ETH/USDC:USDC",
    "SOL/USDC:USDC",
)
BUSY_NOTIONAL = 20  # USDC per resting bid


def keep_account_busy(base_url: str, api_key: str, api_secret: str, stop: threading.Event) -> None:
    """Place and cancel a small post-only bid 5% below the last price on each spot and perp market in turn.

    ccxt.pro's private watch tests wait for the account's order and balance updates in the symbol
    they picked; on Backpack a bot's own orders bring them. The bid is priced from the ticker each
    time, inside the venue's price bands (a perp's mark band is 10%), as prices walk.
    """
    exchange = ccxt.backpack(
        {"apiKey": api_key, "secret": api_secret, "urls": {"api": {"public": base_url, "private": base_url}}}
    )
    exchange.load_markets()
    turn = 0
    while not stop.wait(0.3):
        symbol = BUSY_SYMBOLS[turn % len(BUSY_SYMBOLS)]
        turn += 1
        price = float(exchange.price_to_precision(symbol, exchange.fetch_ticker(symbol)["last"] * 0.95))
        amount = float(exchange.amount_to_precision(symbol, BUSY_NOTIONAL / price))
        order = exchange.create_order(symbol, "limit", "buy", amount, price, {"postOnly": True})
        exchange.cancel_order(order["id"], symbol)


def run_suite(suite: Path, root: Path, flags: list[str]) -> tuple[int, str]:
    """Run ccxt's suite for backpack with the given flags; return its exit status and what it printed.

    A suite still running after SUITE_TIMEOUT_S is killed, and that is reported as a failure.
    """
    environment = dict(os.environ)
    environment["PYTHONPATH"] = str(root / "python")
    command = [sys.executable, "tests_init.py", "backpack", *flags]
    try:
        finished = subprocess.run(
            command, cwd=suite, env=environment, capture_output=True, text=True, timeout=SUITE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as expired:
        printed = _text(expired.stdout) + _text(expired.stderr)
        return -1, printed + f"\n[TEST_FAILURE] the suite was still running after {SUITE_TIMEOUT_S} s\n"
    return finished.returncode, finished.stdout + finished.stderr


def _text(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


def main() -> None:
    base_url, api_key, api_secret, mode = sys.argv[1:5]
    with tempfile.TemporaryDirectory(prefix="ccxt-unified-") as folder:
        root = Path(folder)
        suite = build_tree(root)
        write_settings(root, base_url, api_key, api_secret)
        flags = ["--private"]
        stop = threading.Event()
        if mode == "ws":
            flags.append("--ws")
            busy = threading.Thread(target=keep_account_busy, args=(base_url, api_key, api_secret, stop), daemon=True)
            busy.start()
        else:
            trade_once(base_url, api_key, api_secret)
        try:
            returncode, output = run_suite(suite, root, flags)
        finally:
            stop.set()
    failures = [line.strip() for line in output.splitlines() if line.startswith("[TEST_FAILURE]")]
    sys.stdout.write(
        json.dumps(
            {
                "returncode": returncode,
                "failures": failures,
                "tested": sorted(set(TESTED.findall(output))),
                "tail": output[-6000:] if failures or returncode else "",
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
