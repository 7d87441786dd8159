"""The journal codec is exact: decode(encode(x)) == x for every command and every engine state.

Commands are drawn by Hypothesis from their declared types (any integer size, any text, every enum
member, nested asset specs); states come from running seeded workload streams. Text that does not
match the declared types is refused with a CodecError that names the place, never guessed at.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.integration.workload import build_stream, run_reference

from crossmargin.app.codec import (
    COMMAND_TYPES,
    CodecError,
    TypeCodec,
    decode_command,
    decode_state,
    encode_command,
    encode_command_data,
    encode_state,
)
from crossmargin.core.commands import Command, Deposit, SetMarkPrices, UpdateSettings
from crossmargin.core.ids import PositionId, SubaccountId
from crossmargin.core.numbers import Ratio
from crossmargin.core.perps import PerpPosition
from crossmargin.core.state import EngineState

commands: st.SearchStrategy[Command] = st.one_of(*(st.from_type(kind) for kind in COMMAND_TYPES))


@given(commands)
def test_every_command_round_trips_through_json_text(command: Command) -> None:
    text = encode_command(command)
    assert decode_command(text) == command
    assert encode_command(decode_command(text)) == text


@given(commands)
def test_the_fast_command_text_is_the_general_encoding_to_the_character(command: Command) -> None:
    general = json.dumps(encode_command_data(command), separators=(",", ":"), ensure_ascii=False)
    assert encode_command(command) == general


def test_a_field_of_another_type_than_declared_takes_the_general_path() -> None:
    # Only a bug builds such a command; its text must still be what the general encoder writes.
    for command in (Deposit(SubaccountId(3), "USDC", True), Deposit(SubaccountId(3), 'ü\n"', 5)):  # noqa: FBT003
        general = json.dumps(encode_command_data(command), separators=(",", ":"), ensure_ascii=False)
        assert encode_command(command) == general


def test_integers_beyond_64_bits_stay_exact() -> None:
    command = SetMarkPrices((("BTC", 2**127 - 1), ("ETH", 10**40 + 1)))
    text = encode_command(command)
    assert "170141183460469231731687303715884105727" in text
    assert decode_command(text) == command


def test_command_text_is_tagged_readable_json() -> None:
    text = encode_command(Deposit(SubaccountId(3), "USDC", 1_500_000))
    assert json.loads(text) == {"type": "Deposit", "subaccount_id": 3, "symbol": "USDC", "quantity_atoms": 1_500_000}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_engine_state_after_a_workload_round_trips_exactly(seed: int) -> None:
    reference = run_reference(build_stream(seed, 600))
    state = reference.state_after(len(reference.records))
    text = encode_state(state)
    decoded = decode_state(text)
    assert decoded == state
    assert encode_state(decoded) == text
    assert state.positions, "the workload leaves borrow-lend positions to encode"
    assert state.accruals, "the workload leaves hourly accruals to encode"


def test_empty_engine_state_round_trips() -> None:
    assert decode_state(encode_state(EngineState())) == EngineState()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"type":"Explode","path":"/"}', "command.type"),
        ('{"type":"Deposit","subaccount_id":true,"symbol":"USDC","quantity_atoms":1}', "Deposit.subaccount_id"),
        ('{"type":"Deposit","subaccount_id":1,"symbol":"USDC","quantity_atoms":1.5}', "Deposit.quantity_atoms"),
        ('{"type":"Deposit","subaccount_id":1,"symbol":"USDC","quantity_atoms":1,"x":0}', "unknown field 'x'"),
        ('{"type":"Deposit","subaccount_id":1,"symbol":"USDC"}', "not a valid Deposit"),
        ('{"type":"ExecuteBorrowLend","subaccount_id":1,"symbol":"USDC","side":"Steal","quantity_atoms":1}', "side"),
        ('{"type":"UpdateSettings","subaccount_id":1,"leverage_limit":{"wad":"5"}}', "leverage_limit.wad"),
        ('{"type":"SetMarkPrices","prices_wad":[["BTC",1,2]]}', "prices_wad[0]"),
        ("[1, 2]", "command"),
        ("not json", "not JSON"),
    ],
)
def test_malformed_command_text_is_refused_with_its_place(text: str, where: str) -> None:
    with pytest.raises(CodecError, match=where.replace("[", r"\[").replace("]", r"\]")):
        decode_command(text)


def test_snapshot_of_an_unknown_format_is_refused() -> None:
    with pytest.raises(CodecError, match="format"):
        decode_state('{"format": 99, "state": {}}')


def test_optional_fields_keep_none_and_values_apart() -> None:
    command = UpdateSettings(
        SubaccountId(1), leverage_limit=Ratio(3 * 10**18), auto_lend=None, auto_repay_borrows=False
    )
    assert decode_command(encode_command(command)) == command


def _corrupt(path: list[object], value: object) -> str:
    """Return a workload's snapshot text with the value at `path` (under "state") replaced."""
    reference = run_reference(build_stream(1, 600))
    data = json.loads(encode_state(reference.state_after(len(reference.records))))
    container = data["state"]
    for step in path[:-1]:
        container = container[step]
    container[path[-1]] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (["ledger", 1, 1], "12", "state.ledger[1].value: expected int"),
        (["ledger", 1, 0, 1], 1.5, "state.ledger[1].key[1]: expected str"),
        (["accruals", "BTC", 2, "hour_ms"], True, "state.accruals.BTC[2].hour_ms: expected int"),
        (["movements", 3, "quantity_atoms"], None, "state.movements[3].quantity_atoms: expected int"),
        (["held", 0, 1, 0], 7, "state.held[0].value[0]: expected str"),
    ],
)
def test_a_bad_value_deep_in_a_snapshot_is_refused_with_its_exact_place(
    path: list[object], value: object, where: str
) -> None:
    """Items are decoded without building their places; a refused one is named exactly all the same."""
    with pytest.raises(CodecError, match=re.escape(where)):
        decode_state(_corrupt(path, value))


def test_a_bad_field_of_a_scalar_named_tuple_is_refused_with_its_place() -> None:
    """A perp position (every field a scalar) is checked in one pass of its types; a bad one is still named."""
    decoder = TypeCodec().decoder(list[PerpPosition])
    good = [1, 2, "BTC_USDC_PERP", 5, -300, 300, 0, 0, 0, 0, 0]
    assert decoder([good], "positions") == [PerpPosition(PositionId(1), SubaccountId(2), "BTC_USDC_PERP", 5, -300, 300)]
    for index, bad in ((3, True), (2, 4), (0, "1"), (10, 1.0)):
        wrong = list(good)
        wrong[index] = bad
        with pytest.raises(CodecError, match=re.escape(f"positions[1][{index}]: expected")):
            decoder([good, wrong], "positions")
    with pytest.raises(CodecError, match=re.escape("positions[0]: expected a list of 11 for PerpPosition")):
        decoder([good[:10]], "positions")
