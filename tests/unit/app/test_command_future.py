"""CommandFuture behaves as the standard `concurrent.futures.Future` it replaces for the service's commands.

The reference is the standard library's future itself: the same steps on both must give the same
answers, the same exceptions and the same callbacks.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeoutError

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossmargin.app.command_future import CommandFuture

Step = str
STEPS = (
    "set_running",
    "set_result",
    "set_exception",
    "cancel",
    "add_callback",
    "done",
    "running",
    "cancelled",
    "result_now",
    "exception_now",
)


class BoomError(Exception):
    """The exception the steps set."""


def _observe(future: Future[int], steps: list[Step]) -> list[object]:
    """Run `steps` on `future`; return what each answered or the type of what it raised, then the callbacks' calls."""
    seen: list[object] = []
    calls: list[tuple[int, bool]] = []
    actions: dict[Step, Callable[[], object]] = {
        "set_running": future.set_running_or_notify_cancel,
        "set_result": lambda: future.set_result(7),
        "set_exception": lambda: future.set_exception(BoomError("no")),
        "cancel": future.cancel,
        "add_callback": lambda: future.add_done_callback(lambda done: calls.append((len(seen), done is future))),
        "done": future.done,
        "running": future.running,
        "cancelled": future.cancelled,
        "result_now": lambda: future.result(timeout=0),
        "exception_now": lambda: type(future.exception(timeout=0)).__name__,
    }
    for step in steps:
        try:
            seen.append(actions[step]())
        except (RuntimeError, InvalidStateError, CancelledError, FutureTimeoutError, BoomError) as error:
            seen.append(type(error).__name__)
    return [*seen, calls]


@given(st.lists(st.sampled_from(STEPS), max_size=12))
def test_any_steps_give_what_the_standard_future_gives(steps: list[Step]) -> None:
    assert _observe(CommandFuture(), steps) == _observe(Future(), steps)


@pytest.mark.parametrize(
    "steps",
    [
        ["set_running", "add_callback", "set_result", "result_now", "done", "add_callback"],
        ["add_callback", "cancel", "cancel", "set_running", "set_result", "result_now", "exception_now"],
        ["set_running", "cancel", "set_exception", "result_now", "exception_now", "set_result"],
        ["set_running", "set_running", "result_now"],
    ],
)
def test_the_usual_lives_of_a_command_give_what_the_standard_future_gives(steps: list[Step]) -> None:
    outcome = _observe(CommandFuture(), steps)
    assert outcome == _observe(Future(), steps)
    assert any(isinstance(answer, str) for answer in outcome[:-1]) or outcome[-1], "the case shows something"


def test_callers_waiting_in_other_threads_wake_with_the_result() -> None:
    future: CommandFuture[int] = CommandFuture()
    results: list[int] = []
    waiters = [threading.Thread(target=lambda: results.append(future.result(timeout=10))) for _ in range(4)]
    for waiter in waiters:
        waiter.start()
    time.sleep(0.05)  # let them block
    assert future.set_running_or_notify_cancel()
    future.set_result(42)
    for waiter in waiters:
        waiter.join(timeout=10)
    assert results == [42] * 4


def test_a_wait_that_times_out_says_so_and_a_later_result_still_comes() -> None:
    future: CommandFuture[int] = CommandFuture()
    started = time.monotonic()
    with pytest.raises(FutureTimeoutError):
        future.result(timeout=0.05)
    assert time.monotonic() - started >= 0.04
    future.set_running_or_notify_cancel()
    future.set_exception(BoomError("late"))
    with pytest.raises(BoomError, match="late"):
        future.result(timeout=0)


def test_a_failing_callback_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    future: CommandFuture[int] = CommandFuture()
    ran: list[str] = []

    def broken(_: Future[int]) -> None:
        raise BoomError("callback")

    future.add_done_callback(broken)
    future.add_done_callback(lambda _: ran.append("second"))
    future.set_running_or_notify_cancel()
    future.set_result(1)
    assert ran == ["second"]
    assert "exception calling callback" in caplog.text


def test_asyncio_awaits_it_and_a_cancelled_await_cancels_a_command_not_yet_started() -> None:
    async def scenario() -> tuple[int, bool]:
        answered: CommandFuture[int] = CommandFuture()
        awaited = asyncio.wrap_future(answered)

        def answer() -> None:
            answered.set_running_or_notify_cancel()
            answered.set_result(5)

        threading.Timer(0.01, answer).start()
        value = await awaited
        abandoned: CommandFuture[int] = CommandFuture()
        task = asyncio.wrap_future(abandoned)
        task.cancel()
        await asyncio.sleep(0)
        return value, abandoned.cancelled() and not abandoned.set_running_or_notify_cancel()

    assert asyncio.run(scenario()) == (5, True)


def test_its_repr_names_its_state() -> None:
    future: CommandFuture[int] = CommandFuture()
    assert "state=pending" in repr(future)
    future.set_running_or_notify_cancel()
    future.set_exception(BoomError("x"))
    assert repr(future).endswith("state=finished raised BoomError>")
    done: CommandFuture[int] = CommandFuture()
    done.set_result(3)
    assert repr(done).endswith("state=finished returned int>")
