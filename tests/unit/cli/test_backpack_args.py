"""`serve`'s Backpack options: flags over environment over Backpack's own addresses; bad values named."""

from __future__ import annotations

import argparse

import pytest

from crossmargin.app.price_sources.backpack import DEFAULT_REST_URL, DEFAULT_WS_URL
from crossmargin.cli.backpack_args import add_backpack_arguments, backpack_options_from


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="serve", exit_on_error=False)
    add_backpack_arguments(parser)
    return parser


def test_without_flags_or_environment_the_mirror_reads_backpack_itself() -> None:
    options = backpack_options_from(_parser().parse_args([]), {})
    assert (options.rest_url, options.ws_url, options.poll_seconds) == (DEFAULT_REST_URL, DEFAULT_WS_URL, 5.0)


def test_flags_win_over_the_environment_and_off_turns_the_stream_off() -> None:
    environment = {"CROSSMARGIN_BACKPACK_URL": "http://127.0.0.1:9", "CROSSMARGIN_BACKPACK_WS_URL": "ws://127.0.0.1:9"}
    from_environment = backpack_options_from(_parser().parse_args([]), environment)
    assert (from_environment.rest_url, from_environment.ws_url) == ("http://127.0.0.1:9", "ws://127.0.0.1:9")
    arguments = _parser().parse_args(
        ["--backpack-url", "http://127.0.0.1:8/", "--backpack-ws-url", "off", "--backpack-poll", "0.5"]
    )
    flagged = backpack_options_from(arguments, environment)
    assert (flagged.rest_url, flagged.ws_url, flagged.poll_seconds) == ("http://127.0.0.1:8", None, 0.5)


@pytest.mark.parametrize(
    ("flags", "complaint"),
    [
        (["--backpack-url", "api.backpack.exchange"], "is not a URL starting with http:// or https://"),
        (["--backpack-url", "off"], "is not a URL starting with http:// or https://"),
        (["--backpack-ws-url", "https://ws.backpack.exchange"], "starting with ws:// or wss://, or 'off'"),
        (["--backpack-poll", "0"], "above 0 and at most 3600"),
        (["--backpack-poll", "nan"], "above 0 and at most 3600"),
        (["--backpack-poll", "soon"], "above 0 and at most 3600"),
    ],
)
def test_a_value_that_cannot_work_is_refused_by_name(flags: list[str], complaint: str) -> None:
    with pytest.raises(argparse.ArgumentError, match=complaint):
        _parser().parse_args(flags)


def test_a_bad_url_in_the_environment_is_refused_with_the_url_named() -> None:
    with pytest.raises(ValueError, match="'backpack' must start with http:// or https://"):
        backpack_options_from(_parser().parse_args([]), {"CROSSMARGIN_BACKPACK_URL": "backpack"})
