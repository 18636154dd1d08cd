"""The delivery channels behind one shape: deliver, and say sent, retry or failed."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Literal

import aiohttp
import aiosmtplib

from statuswatch.config.model import EmailSettings
from statuswatch.notify.dkim_sign import DkimSigner

SIGNATURE_HEADER = "X-Statuswatch-Signature"
TIMESTAMP_HEADER = "X-Statuswatch-Timestamp"


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: Literal["sent", "retry", "failed"]
    detail: str
    mark: bool = False  # the address refused for good: mark the subscriber


class EmailChannel:
    """SMTP with aiosmtplib: STARTTLS (required), implicit TLS or none; optional login."""

    def __init__(
        self,
        settings: EmailSettings,
        username: str | None,
        password: str | None,
        tls_context: ssl.SSLContext | None = None,
        dkim: DkimSigner | None = None,
    ) -> None:
        self.settings = settings
        self.dkim = dkim
        self.username = username
        self.password = password
        self.tls_context = tls_context

    async def deliver(self, message: EmailMessage, to: str) -> Outcome:
        """Send one message to one address; classify what the server said."""
        s = self.settings
        # Flattened here with the message's own policy (aiosmtplib would re-fold the headers at
        # 78 columns, splitting List-Unsubscribe's URL), then signed as it will be sent.
        raw = message.as_bytes()
        if self.dkim is not None:
            raw = self.dkim.sign(raw)
        try:
            _, response = await aiosmtplib.send(
                raw,
                sender=s.from_address,
                recipients=[to],
                hostname=s.smtp_host,
                port=s.smtp_port,
                use_tls=s.tls == "implicit",
                start_tls=s.tls == "starttls",
                username=self.username,
                password=self.password,
                timeout=s.timeout,
                tls_context=self.tls_context,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            detail = f"{refused.code} {refused.message}"
            if 500 <= refused.code < 600:  # this address, for good (RCPT TO: 550 no such user)
                return Outcome("failed", detail, mark=True)
            return Outcome("retry", detail)
        except aiosmtplib.SMTPDataError as exc:
            # DATA refused: this message for good on 5xx (the address may take the next one).
            return Outcome("failed" if exc.code >= 500 else "retry", f"{exc.code} {exc.message}")
        except aiosmtplib.SMTPResponseException as exc:
            # MAIL FROM, AUTH, HELO: our configuration or the server, never the address.
            return Outcome("retry", f"{exc.code} {exc.message}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return Outcome("retry", f"{type(exc).__name__}: {exc}")
        return Outcome("sent", f"250 {response}")  # the server's answer to DATA


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 over "timestamp.body" (replays are datable)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class WebhookChannel:
    """POST a Statuspage-style JSON payload, signed; 2xx is delivered."""

    def __init__(self, session: aiohttp.ClientSession, timeout: float) -> None:
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def deliver(
        self, url: str, secret: str, payload: dict[str, Any], key: str, now: float
    ) -> Outcome:
        body = json.dumps(payload, separators=(",", ":")).encode()
        timestamp = str(int(now))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        }
        try:
            async with self.session.post(
                url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
            ) as response:
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return Outcome("retry", f"{type(exc).__name__}: {exc}")
        if 200 <= status < 300:
            return Outcome("sent", f"HTTP {status}")
        if status in (408, 429) or status >= 500:
            return Outcome("retry", f"HTTP {status}")
        return Outcome("failed", f"HTTP {status}")
