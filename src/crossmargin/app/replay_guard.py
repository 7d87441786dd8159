"""The replay guard: a signed write executes at most once, before and after any restart (INV-REPLAY-2).

A signed write (POST, PATCH or DELETE) is known by its ED25519 signature and lives until it
expires (X-Timestamp + X-Window, wall-clock milliseconds); after that the edge refuses it as
expired anyway. The guard remembers every signature until then, in one of two states:

- *claimed*: the HTTP edge has seen it, so a second copy is refused at once; what came of the first
  is not known yet (or it never reached the sequencer: its input was refused);
- *answered*: the sequencer executed it (at a journal sequence) or refused it, and journaled that
  answer (`RequestSignature`) in the same durable transaction as the batch's records.

On start, and after a journal fault, the guard is rebuilt from the journal's unexpired answers
(`reseed`): a replay, or a client's retry of a request whose reply a crash swallowed, is refused
with a message that says whether the original executed, and a request whose batch never became
durable is forgotten, so its retry executes once. A claim whose request was certainly not executed
(refused while the journal was down) is `release`d, so its retry is not refused. The sequencer,
which alone writes the journal, asks `answered` before executing, so two copies that raced past
the edge (or past a `reseed`) still execute once.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from crossmargin.app.ports import RequestSignature


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What a signed write brings to the sequencer: its signature and when it expires (wall-clock ms)."""

    signature: bytes
    expires_at_ms: int


class DuplicateRequestError(Exception):
    """A signed request that was already received; the message says what came of the first copy."""

    def __init__(self, answered: RequestSignature | None) -> None:
        self.answered = answered
        super().__init__(duplicate_message(answered))


def duplicate_message(answered: RequestSignature | None) -> str:
    """Return what a client is told when it sends a signed request again."""
    if answered is None:
        return (
            "This signed request was already used: the first copy is being handled or was refused before it "
            "reached the exchange; sign each request anew"
        )
    if answered.sequence is None:
        return (
            "This signed request was already used: it was refused and nothing was executed; sign a new request "
            "to try again"
        )
    return (
        f"This signed request was already used: it was executed (journal sequence {answered.sequence}) and is "
        "not executed again; sign each request anew"
    )


def wall_clock_ms() -> int:
    """Return the wall-clock time in milliseconds: signatures expire in real time, whatever the engine's clock."""
    return time.time_ns() // 1_000_000


class ReplayGuard:
    """Signatures of signed writes until they expire: claimed by the edge, answered by the sequencer."""

    def __init__(self, wall_ms: Callable[[], int] = wall_clock_ms) -> None:
        self._wall_ms = wall_ms
        # Only bytes, integers and None, which the cyclic garbage collector does not track: the
        # dicts stay untracked and each entry of the heap is one bytes object, so thousands of
        # signatures a second add nothing to the young collections (`_expiry_entry`).
        self._claimed: dict[bytes, int] = {}
        self._answered_until: dict[bytes, int] = {}
        self._answered_sequence: dict[bytes, int | None] = {}
        self._expiries: list[bytes] = []
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        """Return the wall-clock time the guard expires signatures by."""
        return self._wall_ms()

    def claim(self, request: SignedRequest) -> None:
        """Remember a signed request the edge is about to handle; refuse one already claimed or answered."""
        with self._lock:
            self._forget_expired()
            answered = self._answer(request.signature)
            if answered is not None:
                raise DuplicateRequestError(answered)
            if request.signature in self._claimed:
                raise DuplicateRequestError(None)
            self._claimed[request.signature] = request.expires_at_ms
            heapq.heappush(self._expiries, _expiry_entry(request.expires_at_ms, request.signature))

    def release(self, signature: bytes) -> None:
        """Forget a claim whose request was certainly not executed, so that sending it again is not refused."""
        with self._lock:
            self._claimed.pop(signature, None)

    def answered(self, signature: bytes) -> RequestSignature | None:
        """Return the journaled answer to a signature, if the sequencer gave one and it has not expired."""
        with self._lock:
            return self._answer(signature)

    def _answer(self, signature: bytes) -> RequestSignature | None:
        expires_at_ms = self._answered_until.get(signature)
        if expires_at_ms is None:
            return None
        return RequestSignature(signature, expires_at_ms, self._answered_sequence[signature])

    def record(self, answers: Iterable[RequestSignature]) -> None:
        """Remember answers the sequencer has just made durable."""
        with self._lock:
            for answer in answers:
                self._claimed.pop(answer.signature, None)
                self._remember_answer(answer)
                heapq.heappush(self._expiries, _expiry_entry(answer.expires_at_ms, answer.signature))
            self._forget_expired()

    def _remember_answer(self, answer: RequestSignature) -> None:
        self._answered_until[answer.signature] = answer.expires_at_ms
        self._answered_sequence[answer.signature] = answer.sequence

    def reseed(self, answers: Iterable[RequestSignature]) -> None:
        """Forget everything and remember exactly the journal's answers (on start, and after a journal fault)."""
        with self._lock:
            self._claimed = {}
            self._answered_until = {}
            self._answered_sequence = {}
            for answer in answers:
                self._remember_answer(answer)
            self._expiries = [_expiry_entry(until, signature) for signature, until in self._answered_until.items()]
            heapq.heapify(self._expiries)
            self._forget_expired()

    def __len__(self) -> int:
        """Return how many signatures are remembered."""
        with self._lock:
            return len(self._claimed) + len(self._answered_until)

    def _forget_expired(self) -> None:
        now = _expiry_entry(self._wall_ms(), b"")
        while self._expiries and self._expiries[0] < now:
            entry = heapq.heappop(self._expiries)
            expires_at_ms, signature = int.from_bytes(entry[:_EXPIRY_BYTES]), entry[_EXPIRY_BYTES:]
            if self._claimed.get(signature) == expires_at_ms:
                del self._claimed[signature]
            if self._answered_until.get(signature) == expires_at_ms:
                del self._answered_until[signature]
                del self._answered_sequence[signature]


_EXPIRY_BYTES = 8


def _expiry_entry(expires_at_ms: int, signature: bytes) -> bytes:
    """Return a heap entry: the expiry (8 bytes, big-endian: bytes order as the times do), then the signature."""
    return expires_at_ms.to_bytes(_EXPIRY_BYTES) + signature
