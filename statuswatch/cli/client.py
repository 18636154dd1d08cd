"""A small synchronous client of the admin API (urllib: the CLI needs no extra dependency)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8080"
TOKEN_ENV = "STATUSWATCH_ADMIN_TOKEN"  # noqa: S105 - a variable name


class ApiError(Exception):
    """The server said no (status and its message), or could not be reached (status 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_message(status: int, raw: bytes) -> str:
    """The server's own words: each bad field of a 422, or its "error", else the raw text."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return "; ".join(f"{e.get('field')}: {e.get('message')}" for e in body["errors"])
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return raw.decode("utf-8", "replace").strip() or f"HTTP {status}"


class Client:
    """Calls `base_url`'s /api/v1 with the bearer token; JSON in, JSON out."""

    def __init__(self, base_url: str, token: str | None, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def call(
        self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None
    ) -> Any:
        """Send one request; return the decoded JSON answer or raise ApiError."""
        url = f"{self.base_url}/api/v1/{path.lstrip('/')}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        if not url.startswith(("http://", "https://")):
            raise ApiError(0, f"not an http(s) URL: {self.base_url!r}")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - scheme checked
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            with exc:
                raise ApiError(exc.code, error_message(exc.code, exc.read())) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(0, f"cannot reach {self.base_url}: {reason}") from None
