"""Input checks shared by config and JSON: msgspec errors as "key.path: what is wrong", whole
bodies checked field by field, and the control characters no text may carry."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import msgspec

S = TypeVar("S", bound=msgspec.Struct)

_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
# What a text may keep besides printable characters: a body (Markdown) its line breaks and tabs
# (indentation, pasted logs); a one-line text (a title, a name) nothing.
MULTILINE = frozenset("\n\r\t")


def describe(exc: msgspec.ValidationError, under: str = "") -> str:
    """One line naming the key path first, e.g. "monitors[0].retries: unknown key".

    `under` is the key the failing value sat under, for a value decoded on its own.
    """
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches any text
    msg, path = match["msg"], (under + (match["path"] or "")).lstrip(".")
    if unknown := re.match(r"Object contains unknown field `(.+)`", msg):
        return f"{_join(path, unknown[1])}: unknown key"
    if missing := re.match(r"Object missing required field `(.+)`", msg):
        return f"{_join(path, missing[1])}: required key is missing"
    if msg.startswith("Invalid value") and path.endswith((".kind", ".scheme")):
        what = "monitor kind" if path.endswith(".kind") else "credit scheme"
        return f"{path}: unknown {what} {msg.removeprefix('Invalid value ')}"
    return f"{path or 'input'}: {msg[:1].lower()}{msg[1:]}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def decode_object(
    raw: bytes, type_: type[S], dec_hook: Callable[[type, Any], Any] | None = None
) -> tuple[S | None, list[str]]:
    """Decode a JSON object into `type_`, naming every bad key, not only the first.

    msgspec stops at the first error, so the object is decoded as plain JSON and each field on
    its own. Returns the struct with every bad optional field left at its default (None when a
    required field is missing or bad, or the body is no object) and the problems found.
    """
    try:
        obj = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        return None, [f"input: not valid JSON ({exc})"]
    if not isinstance(obj, dict):
        return None, [f"input: expected an object, got {_json_type(obj)}"]
    fields = {f.encode_name: f for f in msgspec.structs.fields(type_)}
    problems = [f"{key}: unknown key" for key in obj if key not in fields]
    good: dict[str, Any] = {}
    complete = True
    for key, field in fields.items():
        if key not in obj:
            if field.required:
                problems.append(f"{key}: required key is missing")
                complete = False
            continue
        try:
            good[field.name] = _decode(obj[key], field.type, dec_hook)
        except msgspec.ValidationError as exc:
            problems += _value_problems(key, obj[key], field.type, dec_hook, exc)
            complete = complete and not field.required
    return (type_(**good) if complete else None), problems


def _decode(value: object, type_: Any, dec_hook: Callable[[type, Any], Any] | None) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value), type=type_, dec_hook=dec_hook)


def _value_problems(
    key: str,
    value: object,
    type_: Any,
    dec_hook: Callable[[type, Any], Any] | None,
    exc: msgspec.ValidationError,
) -> list[str]:
    """The problems of one field's value; a mapping's bad entries are each named by key."""
    if not isinstance(value, dict) or "`$[...]" not in str(exc):
        return [describe(exc, under=key)]
    # msgspec writes a mapping's value as "[...]": decode each entry alone to name its key.
    out = []
    for name, item in value.items():
        try:
            _decode({name: item}, type_, dec_hook)
        except msgspec.ValidationError as item_exc:
            out.append(describe(item_exc, under=key).replace("[...]", f".{name}", 1))
    return out or [describe(exc, under=key)]


def _json_type(obj: object) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return names.get(type(obj), "null")


def control_characters(key: str, text: str, allowed: frozenset[str] = frozenset()) -> Iterator[str]:
    """ "key: ..." when `text` holds a control character (besides `allowed`).

    They break what the text is written into: XML feeds cannot carry NUL, ESC or BEL at all, and
    a line break in a title or name splits a mail header, a log line or a table row.
    """
    bad = sorted({c for c in text if _is_control(c) and c not in allowed})
    if bad:
        named = ", ".join(f"U+{ord(c):04X}" for c in bad)
        yield f"{key}: must not contain control characters (found {named})"


def _is_control(char: str) -> bool:
    # Cc: C0, DEL and C1; Cs: lone surrogates; U+FFFE and U+FFFF are not characters (XML 1.0).
    return unicodedata.category(char) in ("Cc", "Cs") or char in "\ufffe\uffff"
