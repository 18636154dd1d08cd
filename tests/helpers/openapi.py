"""Check real HTTP exchanges against the served OpenAPI document (jsonschema, Draft 2020-12).

`CheckedClient` wraps aiohttp's test client: every request the API accepted must match the
operation's request schema, and every response must be a documented status with a body that
matches its schema. The API tests go through it, so the document cannot drift from the code.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from statuswatch.web.openapi import DOCUMENT

URI = "urn:statuswatch:openapi"
# The document as served: JSON, not the Python objects it is written with.
SPEC: dict[str, Any] = json.loads(json.dumps(DOCUMENT))
REGISTRY = Registry().with_resource(
    URI, Resource.from_contents(SPEC, default_specification=DRAFT202012)
)


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def validator(*pointer: str) -> Draft202012Validator:
    """A validator for the schema at a JSON pointer into the document (refs resolve within)."""
    ref = URI + "#" + quote("".join("/" + _escape(p) for p in pointer), safe="/~")
    return Draft202012Validator(
        {"$ref": ref}, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def template_of(path: str) -> str:
    """The document's path template that a concrete path falls under."""
    for template in SPEC["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return template
    raise AssertionError(f"{path} is not in the OpenAPI document")


def request_errors(method: str, path: str, body: Any) -> list[str]:
    """What the document says is wrong with a JSON request body (empty: it is valid)."""
    template = template_of(path)
    v = validator(
        "paths", template, method.lower(), "requestBody", "content", "application/json", "schema"
    )
    return _errors(v, body)


def _errors(v: Draft202012Validator, instance: Any) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(instance)]


def check_exchange(method: str, path: str, sent: Any, status: int, received: Any) -> None:
    """Fail unless the exchange is what the document describes."""
    template = template_of(path)
    operation = SPEC["paths"][template].get(method.lower())
    assert operation is not None, f"{method} {template} is not documented"
    assert str(status) in operation["responses"], f"{method} {template}: {status} undocumented"
    if sent is not None and 200 <= status < 300:
        errors = request_errors(method, path, sent)
        assert not errors, f"{method} {path} accepted a body its schema rejects: {errors}"
    v = validator(
        "paths",
        template,
        method.lower(),
        "responses",
        str(status),
        "content",
        "application/json",
        "schema",
    )
    errors = _errors(v, received)
    assert not errors, f"{method} {path} -> {status}: response does not match: {errors}"


class CheckedClient:
    """aiohttp's test client, with every exchange checked against the document."""

    def __init__(self, client: Any, token: str | None) -> None:
        self.client = client
        self.app = client.app
        self.token = token
        self.exchanges = 0

    async def call(
        self,
        method: str,
        url: str,
        body: Any = None,
        *,
        token: Any = "default",
        form: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Send a request; return (status, decoded JSON body)."""
        token = self.token if token == "default" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["json"] = body
        if form is not None:
            kwargs["data"] = form
        async with self.client.request(method, url, **kwargs) as resp:
            assert resp.content_type == "application/json", await resp.text()
            received = await resp.json()
            status = resp.status
        check_exchange(method, url.partition("?")[0], body, status, received)
        self.exchanges += 1
        return status, received

    async def get(self, url: str, **kw: Any) -> tuple[int, Any]:
        return await self.call("GET", url, **kw)

    async def post(self, url: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.call("POST", url, body, **kw)

    async def patch(self, url: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.call("PATCH", url, body, **kw)
