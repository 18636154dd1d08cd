"""JSON in and out of the admin API: strict request decoding and the error bodies.

Errors: 422 `{"errors": [{"field": "components.checkout", "message": "..."}]}` naming each bad
field ("$" is the body as a whole); other failures `{"error": "..."}` (404, and 401 from
security.require_admin).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TypeVar

import msgspec
from aiohttp import web

from statuswatch.config.durations import duration_hook
from statuswatch.validation import describe

T = TypeVar("T")


def error_fields(problems: Iterable[str]) -> list[dict[str, str]]:
    """Turn "field: message" lines (config style) into the API's error objects."""
    out = []
    for problem in problems:
        field, _, message = problem.partition(": ")
        out.append({"field": "$" if field == "input" else field, "message": message})
    return out


def unprocessable(problems: Iterable[str]) -> web.HTTPUnprocessableEntity:
    """A 422 naming each bad field."""
    body = json.dumps({"errors": error_fields(problems)})
    return web.HTTPUnprocessableEntity(text=body, content_type="application/json")


def bad_parameter(problem: str) -> web.HTTPBadRequest:
    """A 400 for a bad query parameter: `{"error": "...", "field": "period"}`."""
    (first,) = error_fields([problem])
    body = json.dumps({"error": problem, "field": first["field"]})
    return web.HTTPBadRequest(text=body, content_type="application/json")


def not_found(what: str) -> web.HTTPNotFound:
    """A 404 with a JSON body."""
    return web.HTTPNotFound(
        text=json.dumps({"error": f"{what} not found"}), content_type="application/json"
    )


async def read_json(request: web.Request, type_: type[T]) -> T:
    """Decode the body into a Struct: unknown fields, wrong types and bad JSON answer 422."""
    raw = await request.read()
    try:
        # Durations are written as in config.toml ("2h", "90m"), through the same parser.
        return msgspec.json.decode(raw or b"{}", type=type_, dec_hook=duration_hook)
    except msgspec.ValidationError as exc:
        raise unprocessable([describe(exc)]) from None
    except msgspec.DecodeError as exc:
        raise unprocessable([f"$: not valid JSON ({exc})"]) from None
