"""Codec: exact JSON text for commands (the journal) and for the whole engine state (snapshots).

Encoding is driven by the declared types of frozen dataclasses, read once per type through
`dataclasses.fields` and `typing.get_type_hints`, and compiled into small encoder and decoder
functions. Integers stay integers of any size (JSON numbers, parsed exactly by Python), enums are
stored by value, sets as sorted lists, tuples and NamedTuples as lists, dictionaries with string
keys as objects and any other dictionary as a list of [key, value] pairs. Decoding checks every
value against its declared type and builds only the dataclasses it was compiled for: text read
from a database never executes code. The rule: `decode(encode(x)) == x` for every command and state.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Final, NewType, TypeVar, cast

from crossmargin.app.declared_types import declared_hints
from crossmargin.core.commands import Command
from crossmargin.core.engine import HANDLERS
from crossmargin.core.state import EngineState

T = TypeVar("T")
_NEW_TUPLE: Final = tuple.__new__
Encoder = Callable[[Any], object]
Decoder = Callable[[object, str], object]

SNAPSHOT_FORMAT_VERSION: Final = 7
COMMAND_TAG: Final = "type"
# The engine's dispatch table is the one list of commands: a command it runs is one the journal
# stores. Records name their type, so the table's order does not matter to old journals.
COMMAND_TYPES: Final[tuple[type[Any], ...]] = tuple(HANDLERS)


class CodecError(ValueError):
    """Text that does not decode into the declared type; the message says where."""


class SnapshotFormatError(CodecError):
    """A snapshot written by another version of the state's layout; the journal alone rebuilds it."""


def _fail(where: str, expected: str, value: object) -> CodecError:
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return CodecError(f"{where or 'value'}: expected {expected}, got {shown}")


class TypeCodec:
    """Compiled encoders and decoders for declared types, cached per type."""

    def __init__(self) -> None:
        self._encoders: dict[object, Encoder] = {}
        self._decoders: dict[object, Decoder] = {}

    def encoder(self, declared: object) -> Encoder:
        """Return the function turning a value of `declared` type into JSON-ready data."""
        found = self._encoders.get(declared)
        if found is None:
            found = self._compile_encoder(declared)
            self._encoders[declared] = found
        return found

    def decoder(self, declared: object) -> Decoder:
        """Return the function turning JSON data back into a value of `declared` type."""
        found = self._decoders.get(declared)
        if found is None:
            found = self._compile_decoder(declared)
            self._decoders[declared] = found
        return found

    # Encoders -------------------------------------------------------------------------------

    def _compile_encoder(self, declared: object) -> Encoder:  # noqa: PLR0911 -- one arm per kind of type
        declared = _unwrap_new_type(declared)
        if declared in (int, str, bool, type(None)):
            return _identity
        if isinstance(declared, type) and issubclass(declared, Enum):
            return _enum_value
        if isinstance(declared, type) and dataclasses.is_dataclass(declared):
            return self._dataclass_encoder(declared)
        if isinstance(declared, type) and _is_named_tuple(declared):
            return self._named_tuple_encoder(declared)
        origin, args = typing.get_origin(declared), typing.get_args(declared)
        if origin in (types.UnionType, typing.Union):
            return self._optional_encoder(declared, args)
        if origin in (tuple, list):
            return self._sequence_encoder(origin, args)
        if origin in (set, frozenset):
            item = self.encoder(args[0])
            # Sorted, so equal sets encode to equal text whatever the hash seed of the process.
            return lambda value: sorted((item(element) for element in value), key=repr)
        if origin is dict:
            return self._dict_encoder(args)
        raise TypeError(f"the codec cannot encode values of type {declared!r}")

    def _dataclass_encoder(self, declared: type[Any]) -> Encoder:
        hints = declared_hints(declared)
        plan = [(field.name, self.encoder(hints[field.name])) for field in stored_fields(declared)]

        def encode(value: object) -> object:
            return {name: encode_field(getattr(value, name)) for name, encode_field in plan}

        return encode

    def _named_tuple_encoder(self, declared: type[Any]) -> Encoder:
        hints = declared_hints(declared)
        plan = [self.encoder(hints[name]) for name in declared._fields]
        if all(encode_item is _identity for encode_item in plan):
            return list  # every field a plain scalar (a settled position, a fill): stored as it is
        return lambda value: [encode_item(item) for encode_item, item in zip(plan, value, strict=True)]

    def _optional_encoder(self, declared: object, args: tuple[Any, ...]) -> Encoder:
        present = [arg for arg in args if arg is not type(None)]
        if len(present) != 1 or len(args) != 2:
            raise TypeError(f"the codec supports `X | None` unions only, not {declared!r}")
        inner = self.encoder(present[0])
        return lambda value: None if value is None else inner(value)

    def _sequence_encoder(self, origin: object, args: tuple[Any, ...]) -> Encoder:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            plan = [self.encoder(arg) for arg in args]
            return lambda value: [encode_item(item) for encode_item, item in zip(plan, value, strict=True)]
        item = self.encoder(args[0])
        return lambda value: [item(element) for element in value]

    def _dict_encoder(self, args: tuple[Any, ...]) -> Encoder:
        key, item = self.encoder(args[0]), self.encoder(args[1])
        if _unwrap_new_type(args[0]) is str:
            return lambda value: {name: item(element) for name, element in value.items()}
        return lambda value: [[key(name), item(element)] for name, element in value.items()]

    # Decoders -------------------------------------------------------------------------------

    def _compile_decoder(self, declared: object) -> Decoder:  # noqa: PLR0911 -- one arm per kind
        declared = _unwrap_new_type(declared)
        if declared in (int, str, bool, type(None)):
            return _scalar_decoder(cast("type[Any]", declared))
        if isinstance(declared, type) and issubclass(declared, Enum):
            return _enum_decoder(declared)
        if isinstance(declared, type) and dataclasses.is_dataclass(declared):
            return self._dataclass_decoder(declared)
        if isinstance(declared, type) and _is_named_tuple(declared):
            return self._named_tuple_decoder(declared)
        origin, args = typing.get_origin(declared), typing.get_args(declared)
        if origin in (types.UnionType, typing.Union):
            return self._optional_decoder(args)
        if origin in (tuple, list):
            return self._sequence_decoder(origin, args)
        if origin in (set, frozenset):
            return self._set_decoder(origin, args)
        if origin is dict:
            return self._dict_decoder(args)
        raise TypeError(f"the codec cannot decode values of type {declared!r}")

    def _dataclass_decoder(self, declared: type[Any]) -> Decoder:
        hints = declared_hints(declared)
        plan = {field.name: self.decoder(hints[field.name]) for field in stored_fields(declared)}
        name = declared.__name__

        def decode(data: object, where: str) -> object:
            if not isinstance(data, dict):
                raise _fail(where, f"an object for {name}", data)
            unknown = data.keys() - plan.keys()
            if unknown:
                raise CodecError(f"{where or name}: unknown field {min(unknown)!r} for {name}")
            values = _placed(
                lambda: {key: plan[key](item, where) for key, item in data.items()},
                lambda: {key: plan[key](item, f"{where}.{key}") for key, item in data.items()},
            )
            try:
                return declared(**values)
            except (TypeError, AssertionError) as error:
                raise CodecError(f"{where or name}: not a valid {name}: {error}") from error

        return decode

    def _named_tuple_decoder(self, declared: type[Any]) -> Decoder:
        hints = declared_hints(declared)
        plan = [self.decoder(hints[name]) for name in declared._fields]
        kinds = tuple(_unwrap_new_type(hints[name]) for name in declared._fields)

        def decode_scalars(data: object, where: str) -> object:
            # Every field a plain int, str or bool (a settled position, a fill): one check of their
            # exact types, as the scalar decoders make, and the tuple built without `__new__`.
            if type(data) is list and tuple(map(type, data)) == kinds:
                return _NEW_TUPLE(declared, data)
            return decode(data, where)  # refused there, with the place

        def decode(data: object, where: str) -> object:
            if not isinstance(data, list) or len(data) != len(plan):
                raise _fail(where, f"a list of {len(plan)} for {declared.__name__}", data)
            pairs = list(zip(plan, data, strict=True))
            return declared(
                *_placed(
                    lambda: [item(element, where) for item, element in pairs],
                    lambda: [item(element, f"{where}[{i}]") for i, (item, element) in enumerate(pairs)],
                )
            )

        return decode_scalars if all(kind in (int, str, bool) for kind in kinds) else decode

    def _optional_decoder(self, args: tuple[Any, ...]) -> Decoder:
        inner = self.decoder(next(arg for arg in args if arg is not type(None)))
        return lambda data, where: None if data is None else inner(data, where)

    def _sequence_decoder(self, origin: object, args: tuple[Any, ...]) -> Decoder:
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            plan = [self.decoder(arg) for arg in args]

            def decode_fixed(data: object, where: str) -> object:
                if not isinstance(data, list) or len(data) != len(plan):
                    raise _fail(where, f"a list of {len(plan)}", data)
                pairs = list(zip(plan, data, strict=True))
                return tuple(
                    _placed(
                        lambda: [item(element, where) for item, element in pairs],
                        lambda: [item(element, f"{where}[{i}]") for i, (item, element) in enumerate(pairs)],
                    )
                )

            return decode_fixed
        item = self.decoder(args[0])
        build: Callable[[Any], Any] = tuple if origin is tuple else list

        def decode(data: object, where: str) -> object:
            if not isinstance(data, list):
                raise _fail(where, "a list", data)
            return build(
                _placed(
                    lambda: [item(element, where) for element in data],
                    lambda: [item(element, f"{where}[{i}]") for i, element in enumerate(data)],
                )
            )

        return decode

    def _set_decoder(self, origin: object, args: tuple[Any, ...]) -> Decoder:
        item = self.decoder(args[0])
        build: Callable[[Any], Any] = frozenset if origin is frozenset else set

        def decode(data: object, where: str) -> object:
            if not isinstance(data, list):
                raise _fail(where, "a list", data)
            return build(
                _placed(
                    lambda: [item(element, where) for element in data],
                    lambda: [item(element, f"{where}[{i}]") for i, element in enumerate(data)],
                )
            )

        return decode

    def _dict_decoder(self, args: tuple[Any, ...]) -> Decoder:
        key, item = self.decoder(args[0]), self.decoder(args[1])
        if _unwrap_new_type(args[0]) is str:

            def decode_object(data: object, where: str) -> object:
                if not isinstance(data, dict):
                    raise _fail(where, "an object", data)
                return _placed(
                    lambda: {name: item(element, where) for name, element in data.items()},
                    lambda: {name: item(element, f"{where}.{name}") for name, element in data.items()},
                )

            return decode_object

        def decode_pairs(data: object, where: str) -> object:
            if not isinstance(data, list):
                raise _fail(where, "a list of [key, value] pairs", data)
            return _placed(lambda: pairs(data, where, placed=False), lambda: pairs(data, where, placed=True))

        def pairs(data: list[object], where: str, *, placed: bool) -> dict[Any, Any]:
            decoded: dict[Any, Any] = {}
            for i, pair in enumerate(data):
                at = f"{where}[{i}]" if placed else where
                if not isinstance(pair, list) or len(pair) != 2:
                    raise _fail(f"{where}[{i}]", "a [key, value] pair", pair)
                decoded[key(pair[0], f"{at}.key" if placed else at)] = item(pair[1], f"{at}.value" if placed else at)
            return decoded

        return decode_pairs


def _placed(fast: Callable[[], T], placed: Callable[[], T]) -> T:
    """Decode a container's items with `fast`, which hands each item the container's own place.

    Building every item's place (`state.fills[12].price_wad`) cost more than decoding it: a snapshot
    holds millions of items. Only when an item is refused is it decoded again with `placed`, which
    names each item's place, so the error says exactly where, as it always did (decoding is pure).
    """
    try:
        return fast()
    except CodecError:
        pass
    return placed()


def stored_fields(declared: type[Any]) -> list[dataclasses.Field[Any]]:
    """Return the fields a value is stored by: all but the derived indexes (rebuilt on load)."""
    return [field for field in dataclasses.fields(declared) if not field.metadata.get("derived")]


def _identity(value: object) -> object:
    return value


def _enum_value(value: object) -> object:
    return cast("Enum", value).value


def _unwrap_new_type(declared: object) -> object:
    while isinstance(declared, NewType):
        declared = declared.__supertype__
    return declared


def _is_named_tuple(declared: type[Any]) -> bool:
    return issubclass(declared, tuple) and hasattr(declared, "_fields")


def _scalar_decoder(declared: type[Any]) -> Decoder:
    expected = "null" if declared is type(None) else declared.__name__

    def decode(data: object, where: str) -> object:
        # bool is a subclass of int: an int field must not accept true/false, nor a bool field 0/1.
        if type(data) is not declared:
            raise _fail(where, expected, data)
        return data

    return decode


def _enum_decoder(declared: type[Enum]) -> Decoder:
    def decode(data: object, where: str) -> object:
        try:
            return declared(data)
        except ValueError as error:
            raise _fail(where, f"a {declared.__name__} value", data) from error

    return decode


_CODEC: Final = TypeCodec()
_COMMANDS_BY_NAME: Final = {command_type.__name__: command_type for command_type in COMMAND_TYPES}
_COMMAND_ENCODERS: Final = {command_type: _CODEC.encoder(command_type) for command_type in COMMAND_TYPES}
_COMMAND_DECODERS: Final = {command_type.__name__: _CODEC.decoder(command_type) for command_type in COMMAND_TYPES}
_STATE_ENCODER: Final = _CODEC.encoder(EngineState)
_STATE_DECODER: Final = _CODEC.decoder(EngineState)
_DUMPS: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode
assert all(COMMAND_TAG not in (field.name for field in dataclasses.fields(kind)) for kind in COMMAND_TYPES), (
    "no command has a field named like the tag that names its type"
)


def encode_command_data(command: Command) -> dict[str, object]:
    """Return a command as JSON-ready data, tagged with its type name."""
    fields = cast("dict[str, object]", _COMMAND_ENCODERS[type(command)](command))
    return {COMMAND_TAG: type(command).__name__, **fields}


def encode_command(command: Command) -> str:
    """Return a command as compact JSON text.

    The journal encodes every accepted command on the sequencer's thread, so each command type has
    a compiled text encoder that writes the same text as `_DUMPS(encode_command_data(command))`
    directly, without the intermediate dictionary; a value whose type is not the declared one
    (which only a bug would build) takes the general path, so the text is the same either way.
    """
    try:
        return _COMMAND_TEXT_ENCODERS[type(command)](command)
    except _NotDeclaredTypeError:
        return _DUMPS(encode_command_data(command))


class _NotDeclaredTypeError(Exception):
    """A field holds a value of another type than declared: encode the command the general way."""


FieldText = Callable[[Any], str]


def _int_text(value: object) -> str:
    # bool is a subclass of int and would print as True: only an exact int takes the fast path.
    if type(value) is not int:
        raise _NotDeclaredTypeError
    return int.__repr__(value)


def _str_text(value: object) -> str:
    if type(value) is not str:
        raise _NotDeclaredTypeError
    return _ENCODE_STRING(value)


def _bool_text(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise _NotDeclaredTypeError


def _field_text(declared: object) -> FieldText:
    """Return a function writing one field's JSON text, as `_DUMPS` writes it inside the whole command."""
    declared = _unwrap_new_type(declared)
    if declared is int:
        return _int_text
    if declared is str:
        return _str_text
    if declared is bool:
        return _bool_text
    if isinstance(declared, type) and issubclass(declared, Enum):
        texts = {member: _DUMPS(member.value) for member in declared}

        def enum_text(value: object) -> str:
            found = texts.get(value) if type(value) is declared else None
            if found is None:
                raise _NotDeclaredTypeError
            return found

        return enum_text
    args = typing.get_args(declared)
    if typing.get_origin(declared) in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        inner = _field_text(next(arg for arg in args if arg is not type(None)))
        return lambda value: "null" if value is None else inner(value)
    encoder = _CODEC.encoder(declared)
    return lambda value: _DUMPS(encoder(value))


def _command_text_encoder(kind: type[Any]) -> Callable[[Command], str]:
    """Compile a command type's text encoder: the tag, then each stored field in declared order."""
    hints = declared_hints(kind)
    head = "{" + _DUMPS(COMMAND_TAG) + ":" + _DUMPS(kind.__name__)
    plan = [
        ("," + _DUMPS(field.name) + ":", field.name, _field_text(hints[field.name])) for field in stored_fields(kind)
    ]

    def encode(command: Command) -> str:
        parts = [head]
        for prefix, name, text in plan:
            parts.append(prefix)
            parts.append(text(getattr(command, name)))
        parts.append("}")
        return "".join(parts)

    return encode


_ENCODE_STRING: Final = json.encoder.encode_basestring  # what `_DUMPS` (ensure_ascii=False) writes strings with
_COMMAND_TEXT_ENCODERS: Final = {kind: _command_text_encoder(kind) for kind in COMMAND_TYPES}


def decode_command_data(data: object) -> Command:
    """Build a command from JSON-ready data; raise CodecError on anything else."""
    if not isinstance(data, dict):
        raise _fail("command", "an object", data)
    fields = dict(data)
    name = fields.pop(COMMAND_TAG, None)
    if not isinstance(name, str) or name not in _COMMANDS_BY_NAME:
        raise _fail("command.type", f"one of {', '.join(_COMMANDS_BY_NAME)}", name)
    return cast("Command", _COMMAND_DECODERS[name](fields, name))


def decode_command(text: str) -> Command:
    """Parse a command from JSON text; raise CodecError on anything else."""
    try:
        data = json.loads(text)
    except ValueError as error:  # JSONDecodeError, or an integer past Python's digit limit
        raise CodecError(f"command: not JSON: {error}") from error
    return decode_command_data(data)


def encode_state(state: EngineState, extras: Mapping[str, object] | None = None) -> str:
    """Return the whole engine state as JSON text, with the snapshot format version.

    `extras` are kept beside the state under their own keys (JSON values: what the service keeps
    outside the engine, such as its market history); `decode_snapshot` hands them back.
    """
    data: dict[str, object] = {"format": SNAPSHOT_FORMAT_VERSION, "state": _STATE_ENCODER(state)}
    for key, value in (extras or {}).items():
        assert key not in data, f"a snapshot extra must not be named {key!r}"
        data[key] = value
    return _DUMPS(data)


def value_encoder(declared: object) -> Encoder:
    """Return the compiled encoder of a declared type (what a snapshot stores a field of that type with)."""
    return _CODEC.encoder(declared)


def dumps(data: object) -> str:
    """Return JSON-ready data as the compact text snapshots and journal records are written in."""
    return _DUMPS(data)


def decode_state(text: str) -> EngineState:
    """Parse an engine state from snapshot text; raise CodecError on anything else."""
    return decode_snapshot(text)[0]


def decode_snapshot(text: str) -> tuple[EngineState, dict[str, object]]:
    """Parse snapshot text into the engine state and the extras stored beside it; raise CodecError on anything else."""
    return decode_snapshot_data(parse_snapshot(text))


def parse_snapshot(text: str) -> dict[str, object]:
    """Parse snapshot text into its JSON object; raise CodecError on anything else."""
    try:
        data = json.loads(text)
    except ValueError as error:  # JSONDecodeError, or an integer past Python's digit limit
        raise CodecError(f"snapshot: not JSON: {error}") from error
    if not isinstance(data, dict):
        raise CodecError("snapshot: expected an object")
    return data


def decode_snapshot_data(data: dict[str, object]) -> tuple[EngineState, dict[str, object]]:
    """Build the engine state and the extras from a parsed snapshot; raise CodecError on anything else."""
    if data.get("format") != SNAPSHOT_FORMAT_VERSION:
        raise SnapshotFormatError(f"snapshot: format {data.get('format')!r}, expected {SNAPSHOT_FORMAT_VERSION}")
    state = cast("EngineState", _STATE_DECODER(data.get("state"), "state"))
    state.rebuild_indexes()
    return state, {key: value for key, value in data.items() if key not in ("format", "state")}
