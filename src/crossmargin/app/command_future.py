"""The future a submitted command's caller holds: a `concurrent.futures.Future` without a Condition.

Every command the service accepts gets a future, made by the submitting thread, started and
resolved by the sequencer. The standard `Future` builds a `threading.Condition` (Python code around
an RLock) in its constructor and enters it, and notifies it, in each step: about 3.8 us per command
for the future alone, as much as executing a deposit. `CommandFuture` keeps the same states and the
same public behaviour with one C lock per future, taken only for a moment, and a gate lock made only
when a caller must wait for a future that is not done yet (the HTTP edge never does: it chains the
future to its event loop with `asyncio.wrap_future`, which takes any `concurrent.futures.Future`).

What it leaves out: `concurrent.futures.wait` and `as_completed`, which reach into a standard
future's Condition; nothing waits on the service's futures so (tests/unit/app/test_command_future.py
checks the rest against the standard future, method by method).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeoutError
from typing import Final, TypeVar, cast

T = TypeVar("T")

_LOGGER: Final = logging.getLogger("concurrent.futures")

_PENDING: Final = "PENDING"
_RUNNING: Final = "RUNNING"
_CANCELLED: Final = "CANCELLED"
_CANCELLED_AND_NOTIFIED: Final = "CANCELLED_AND_NOTIFIED"
_FINISHED: Final = "FINISHED"
_CANCELLED_STATES: Final = (_CANCELLED, _CANCELLED_AND_NOTIFIED)
_DONE_STATES: Final = (_CANCELLED, _CANCELLED_AND_NOTIFIED, _FINISHED)


class CommandFuture(Future[T]):
    """A future with the standard one's states and methods, and no Condition (see the module's doc)."""

    def __init__(self) -> None:  # not Future.__init__: it would build the Condition this class avoids
        self._state = _PENDING
        self._result: T | None = None
        self._exception: BaseException | None = None
        self._done_callbacks: list[Callable[[Future[T]], object]] = []
        self._lock = threading.Lock()
        self._gates: list[threading.Lock] | None = None

    def __repr__(self) -> str:
        head = f"<{type(self).__name__} at {id(self):#x} state={self._state.lower()}"
        if self._state != _FINISHED:
            return head + ">"
        if self._exception is not None:
            return f"{head} raised {type(self._exception).__name__}>"
        return f"{head} returned {type(self._result).__name__}>"

    def cancel(self) -> bool:
        """Cancel the future unless it is running or done; return whether it is cancelled."""
        with self._lock:
            if self._state in (_RUNNING, _FINISHED):
                return False
            if self._state in _CANCELLED_STATES:
                return True
            self._state = _CANCELLED
            gates = self._take_gates()
        self._open(gates)
        self._invoke_callbacks()
        return True

    def cancelled(self) -> bool:
        """Return whether the future was cancelled."""
        return self._state in _CANCELLED_STATES

    def running(self) -> bool:
        """Return whether the future is running (started by the sequencer, not yet done)."""
        return self._state == _RUNNING

    def done(self) -> bool:
        """Return whether the future was cancelled or finished."""
        return self._state in _DONE_STATES

    def result(self, timeout: float | None = None) -> T:
        """Return the result, waiting up to `timeout` seconds; raise what the call raised."""
        self._wait(timeout)
        if self._state in _CANCELLED_STATES:
            raise CancelledError
        if self._exception is not None:
            raise self._exception
        return cast("T", self._result)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Return the exception the call raised (None if none), waiting up to `timeout` seconds."""
        self._wait(timeout)
        if self._state in _CANCELLED_STATES:
            raise CancelledError
        return self._exception

    def add_done_callback(self, fn: Callable[[Future[T]], object]) -> None:
        """Call `fn(self)` once the future is done: at once (here) if it already is."""
        with self._lock:
            if self._state not in _DONE_STATES:
                self._done_callbacks.append(fn)
                return
        self._call(fn)

    def set_running_or_notify_cancel(self) -> bool:
        """Mark the future running; return False if it was cancelled (the sequencer then skips it)."""
        with self._lock:
            if self._state == _PENDING:
                self._state = _RUNNING
                return True
            if self._state == _CANCELLED:
                self._state = _CANCELLED_AND_NOTIFIED
                return False
        raise RuntimeError(f"Future in unexpected state: {self._state}")

    def set_result(self, result: T) -> None:
        """Finish the future with `result`, wake its waiters and run its callbacks."""
        self._finish(result, None)

    def set_exception(self, exception: BaseException | None) -> None:
        """Finish the future with `exception`, wake its waiters and run its callbacks."""
        self._finish(None, exception)

    def _finish(self, result: T | None, exception: BaseException | None) -> None:
        with self._lock:
            if self._state in _DONE_STATES:
                raise InvalidStateError(f"{self._state}: {self!r}")
            self._result = result
            self._exception = exception
            self._state = _FINISHED
            gates = self._take_gates()
        self._open(gates)
        self._invoke_callbacks()

    def _wait(self, timeout: float | None) -> None:
        if self._state in _DONE_STATES:
            return
        gate = threading.Lock()
        gate.acquire()
        with self._lock:
            if self._state in _DONE_STATES:
                return
            if self._gates is None:
                self._gates = []
            self._gates.append(gate)
        if not gate.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            with self._lock:
                if self._state not in _DONE_STATES:
                    assert self._gates is not None, "a waiter's gate is listed until the future is done"
                    self._gates.remove(gate)
                    raise FutureTimeoutError

    def _take_gates(self) -> list[threading.Lock]:
        gates = self._gates or []
        self._gates = None
        return gates

    @staticmethod
    def _open(gates: list[threading.Lock]) -> None:
        for gate in gates:
            gate.release()

    def _invoke_callbacks(self) -> None:
        callbacks, self._done_callbacks = self._done_callbacks, []
        for callback in callbacks:
            self._call(callback)

    def _call(self, callback: Callable[[Future[T]], object]) -> None:
        try:
            callback(self)
        except Exception:
            # As the standard future does: a failing callback is logged, the others still run.
            _LOGGER.exception("exception calling callback for %r", self)
