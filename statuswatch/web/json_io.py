"""JSON in and out of the admin API: strict request decoding and the error bodies.

Errors: 422 `{"errors": [{"field": "components.checkout", "message": "..."}]}` naming each bad
field ("$" is the body as a whole); other failures `{"error": "..."}` (404, and 401 from
security.require_admin).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import msgspec
from aiohttp import web

from statuswatch.config.durations import duration_hook
from statuswatch.validation import decode_object

S = TypeVar("S", bound=msgspec.Struct)


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


@dataclass(frozen=True, slots=True)
class Body(Generic[S]):
    """A decoded request body and its shape problems (bad fields left at their defaults)."""

    value: S
    problems: tuple[str, ...]

    def check(self, more: Iterable[str] = ()) -> S:
        """The value, or a 422 naming every bad field: its own problems, then the checks'.

        A field already named is not named again (its default stood in for the bad value),
        nor is the body as a whole once a field is wrong.
        """
        named = {p.partition(": ")[0] for p in self.problems}
        extra = [p for p in more if not named or p.partition(": ")[0] not in {*named, "$"}]
        if problems := [*self.problems, *extra]:
            raise unprocessable(problems)
        return self.value


async def read_body(request: web.Request, type_: type[S]) -> Body[S]:
    """Decode the body into a Struct, naming every unknown key, wrong type and missing field.

    Answers 422 at once when the struct cannot be built (bad JSON, a required field missing or
    bad); otherwise the caller adds its own checks with Body.check, so one answer names all.
    """
    # Durations are written as in config.toml ("2h", "90m"), through the same parser.
    value, problems = decode_object(await request.read() or b"{}", type_, duration_hook)
    if value is None:
        raise unprocessable(problems)
    return Body(value, tuple(problems))


async def read_json(request: web.Request, type_: type[S]) -> S:
    """Decode the body into a Struct: unknown fields, wrong types and bad JSON answer 422."""
    return (await read_body(request, type_)).check()
