"""The process the in-flight replay test kills: it dies by SIGKILL right after a signed command's batch is durable.

Run as `python crash_after_append_worker.py --data-dir DIR [--database-url URL] [--schema X]`.
It opens the service on the journal through the composition root, creates subaccount 1, deposits
100 USDC and prints `funded`; then it submits a withdrawal of 20 carrying the signed request
`SIGNATURE` through a journal wrapper that, once the batch holding the signature is appended,
kills its own process with SIGKILL: the command is durable, and no reply ever leaves.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.integration.workload import START_MS

from crossmargin.app.clock import ManualClock
from crossmargin.app.forwarding_journal import ForwardingJournal
from crossmargin.app.ports import JournalRecord, RequestSignature
from crossmargin.app.replay_guard import SignedRequest
from crossmargin.app.service import Service
from crossmargin.asset_config import load_asset_specs
from crossmargin.bootstrap import open_journal
from crossmargin.core.commands import CreateAccount, Deposit, Withdraw
from crossmargin.core.ids import SubaccountId

SIGNATURE = SignedRequest(b"\x07" * 64, 2**62)
DEPOSIT_ATOMS = 100_000_000
WITHDRAWAL = Withdraw(SubaccountId(1), "USDC", 20_000_000, address="0xaa", blockchain="Ethereum")


class DieAfterSignedAppend(ForwardingJournal):
    """A pass-through journal that kills its process once a batch with a request signature is durable."""

    def append(self, records: Sequence[JournalRecord], signatures: Sequence[RequestSignature] = ()) -> None:
        self.inner.append(records, signatures)
        if signatures:
            os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--schema")
    arguments = parser.parse_args()
    journal = DieAfterSignedAppend(open_journal(arguments.database_url, arguments.data_dir, schema=arguments.schema))
    service = Service.open(journal, ManualClock(START_MS), load_asset_specs())
    service.execute(CreateAccount())
    service.execute(Deposit(SubaccountId(1), "USDC", DEPOSIT_ATOMS))
    sys.stdout.write("funded\n")
    sys.stdout.flush()
    service.submit(WITHDRAWAL, signed=SIGNATURE).result()
    sys.stdout.write("replied\n")  # never written: the process dies first
    sys.stdout.flush()


if __name__ == "__main__":
    main()
