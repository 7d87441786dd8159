"""The replay guard remembers each signed write until it expires: claimed by the edge, answered by the sequencer."""

from __future__ import annotations

import gc

import pytest

from crossmargin.app.ports import RequestSignature
from crossmargin.app.replay_guard import DuplicateRequestError, ReplayGuard, SignedRequest

NOW_MS = 1_767_225_600_000
SIGNATURE = b"\x01" * 64


class Wall:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now_ms = NOW_MS

    def __call__(self) -> int:
        return self.now_ms


def test_a_second_claim_of_one_signature_is_refused_without_knowing_the_outcome_yet() -> None:
    guard = ReplayGuard(Wall())
    guard.claim(SignedRequest(SIGNATURE, NOW_MS + 5_000))
    with pytest.raises(DuplicateRequestError, match="already used: the first copy is being handled") as caught:
        guard.claim(SignedRequest(SIGNATURE, NOW_MS + 5_000))
    assert caught.value.answered is None


def test_an_answered_signature_is_refused_naming_the_sequence_that_executed_it() -> None:
    guard = ReplayGuard(Wall())
    guard.claim(SignedRequest(SIGNATURE, NOW_MS + 5_000))
    guard.record([RequestSignature(SIGNATURE, NOW_MS + 5_000, 42)])
    assert guard.answered(SIGNATURE) == RequestSignature(SIGNATURE, NOW_MS + 5_000, 42)
    with pytest.raises(DuplicateRequestError, match=r"executed \(journal sequence 42\)"):
        guard.claim(SignedRequest(SIGNATURE, NOW_MS + 5_000))


def test_a_refused_signature_is_refused_again_saying_nothing_ran() -> None:
    guard = ReplayGuard(Wall())
    guard.record([RequestSignature(SIGNATURE, NOW_MS + 5_000, None)])
    with pytest.raises(DuplicateRequestError, match="refused and nothing was executed"):
        guard.claim(SignedRequest(SIGNATURE, NOW_MS + 5_000))


def test_a_released_claim_can_be_claimed_again_but_an_answer_cannot_be_released() -> None:
    guard = ReplayGuard(Wall())
    guard.claim(SignedRequest(SIGNATURE, NOW_MS + 5_000))
    guard.release(SIGNATURE)
    guard.claim(SignedRequest(SIGNATURE, NOW_MS + 5_000))
    guard.record([RequestSignature(SIGNATURE, NOW_MS + 5_000, 7)])
    guard.release(SIGNATURE)
    with pytest.raises(DuplicateRequestError):
        guard.claim(SignedRequest(SIGNATURE, NOW_MS + 5_000))


def test_signatures_are_forgotten_once_they_expire() -> None:
    wall = Wall()
    guard = ReplayGuard(wall)
    guard.claim(SignedRequest(b"\x02" * 64, NOW_MS + 1_000))
    guard.record([RequestSignature(SIGNATURE, NOW_MS + 60_000, 3)])
    assert len(guard) == 2
    wall.now_ms = NOW_MS + 1_001
    guard.claim(SignedRequest(b"\x03" * 64, NOW_MS + 61_000))
    assert len(guard) == 2, "the expired claim is gone, the answer and the new claim stay"
    wall.now_ms = NOW_MS + 60_001
    guard.record([])
    assert guard.answered(SIGNATURE) is None
    assert len(guard) == 1


def test_reseeding_keeps_exactly_the_journal_s_answers() -> None:
    guard = ReplayGuard(Wall())
    guard.claim(SignedRequest(b"\x02" * 64, NOW_MS + 5_000))
    guard.record([RequestSignature(b"\x03" * 64, NOW_MS + 5_000, 9)])
    guard.reseed([RequestSignature(SIGNATURE, NOW_MS + 5_000, 11)])
    guard.claim(SignedRequest(b"\x02" * 64, NOW_MS + 5_000))
    guard.claim(SignedRequest(b"\x03" * 64, NOW_MS + 5_000))
    with pytest.raises(DuplicateRequestError, match="journal sequence 11"):
        guard.claim(SignedRequest(SIGNATURE, NOW_MS + 5_000))


def test_remembered_signatures_leave_nothing_for_the_garbage_collector_to_walk() -> None:
    """Every signed write is remembered until it expires (a minute or more at thousands a second).

    Kept as objects the cyclic collector tracks, they survived each young collection and made it
    longer: under signed borrows with `--edge-workers 2`, young collections of 40,000-47,000
    objects, a third of them the guard's, paused a process for 6-11 ms. Kept as plain bytes and
    integers, the guard adds no tracked object per signature.
    """
    guard = ReplayGuard(Wall())
    signatures = [number.to_bytes(64, "big") for number in range(2_000)]
    gc.collect()
    before = len(gc.get_objects())
    for number, signature in enumerate(signatures[:1_000]):
        guard.claim(SignedRequest(signature, NOW_MS + 5_000 + number))
    guard.record(RequestSignature(signature, NOW_MS + 6_000, 7) for signature in signatures[:1_000])
    guard.record(RequestSignature(signature, NOW_MS + 6_000, None) for signature in signatures[1_000:])
    gc.collect()
    assert len(gc.get_objects()) - before < 20
    assert len(guard) == 2_000
    assert guard.answered(signatures[3]) == RequestSignature(signatures[3], NOW_MS + 6_000, 7)
    assert guard.answered(signatures[1_003]) == RequestSignature(signatures[1_003], NOW_MS + 6_000, None)
