"""The sequencer's counters: commands by type and result, duplicates, batch sizes and flush-time buckets."""

from __future__ import annotations

from dataclasses import dataclass

from crossmargin.app.ports import RequestSignature
from crossmargin.app.sequencer_stats import Buckets, SequencerStats
from crossmargin.core.commands import Command, CreateAccount, Deposit
from crossmargin.core.engine import Accepted, Rejected, execute
from crossmargin.core.ids import SubaccountId
from crossmargin.core.rejections import RejectReason
from crossmargin.core.state import EngineState

START_MS = 1_767_225_600_000


@dataclass(frozen=True)
class Submission:
    commands: tuple[Command, ...]


def test_buckets_are_cumulative_and_end_at_inf() -> None:
    buckets = Buckets((1.0, 10.0))
    for value in (0.5, 1.0, 3.0, 50.0):
        buckets.observe(value)
    assert buckets.cumulative() == [("1.0", 2.0), ("10.0", 3.0), ("+Inf", 4.0)]
    assert (buckets.count, buckets.total) == (4, 54.5)


def test_a_batch_is_counted_by_command_type_result_and_reason() -> None:
    state = EngineState()
    created = execute(state, CreateAccount(api_keys=()), START_MS)
    assert isinstance(created, Accepted)
    unknown = Deposit(SubaccountId(99), "USDC", 1)
    refused = execute(state, unknown, START_MS)
    assert isinstance(refused, Rejected)
    answered = RequestSignature(b"s" * 64, START_MS, 1)
    stats = SequencerStats()
    stats.record_batch(
        [
            Submission((CreateAccount(api_keys=()),)),
            Submission((unknown,)),
            Submission((CreateAccount(api_keys=()), unknown, unknown)),
            Submission((unknown,)),
        ],
        [[created], [refused], [created, refused, refused], answered],
    )
    assert stats.accepted == {CreateAccount: 2}
    assert stats.refused == {(Deposit, RejectReason.SUBACCOUNT_NOT_FOUND): 3}
    assert stats.duplicates == {Deposit: 1}
    assert (stats.batch_commands.count, stats.batch_commands.total) == (1, 6.0)
    stats.record_flush(0.002)
    assert stats.flush_seconds.count == 1
