"""A real SMTP server (aiosmtpd) on the test's event loop, and a statuswatch rig around it."""

from __future__ import annotations

import asyncio
import contextlib
import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from urllib.parse import urlsplit

from aiosmtpd.smtp import SMTP

from statuswatch.clock import FakeClock
from statuswatch.store import Store
from statuswatch.web import create_app
from statuswatch.web.keys import NOTIFICATIONS
from tests.helpers.config import make_config
from tests.helpers.net import free_port

ADMIN = "admin-token-for-tests"
ENV = {"TEST_ADMIN_TOKEN": ADMIN, "HOOK_SECRET": "hook-secret"}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Mailbox:
    """aiosmtpd handler: keeps what it accepts; scripted replies make it refuse or defer."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # as received, for signature checks
        self.rcpt_replies: dict[str, str] = {}  # address -> reply to RCPT TO (e.g. "550 ...")
        self.data_replies: list[str] = []  # replies to the next DATA commands, in order
        self.refused: list[EmailMessage] = []  # what those scripted replies turned away
        self.on_data = None  # called with each accepted message (the kill test uses it)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=default)
        if self.data_replies:
            self.refused.append(msg)
            return self.data_replies.pop(0)
        self.messages.append(msg)
        self.raw.append(envelope.content)
        if self.on_data is not None:
            self.on_data(msg)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    """Start, stop and start again on the same port (an SMTP outage)."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.port = free_port()
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: SMTP(self.mailbox, hostname="mx.test"),
            "127.0.0.1",
            self.port,
            reuse_address=True,
        )

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()
            self.server = None


def email_config(tmp_path, port: int, monitors=(), sections=None, site=None, **email):
    settings = {
        "enabled": True,
        "from": "status@example.com",
        "from_name": "Example Status",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "tls": "none",
        "timeout": "5s",
        "poll_interval": "1h",
        "retry_base": "30s",
        "retry_cap": "10m",
        **email,
    }
    site = {
        "title": "Test Status",
        "base_url": "http://status.test",
        "admin_token_env": "TEST_ADMIN_TOKEN",
        **(site or {}),
    }
    return make_config(tmp_path, list(monitors), site=site, email=settings, **(sections or {}))


class Rig:
    """One running statuswatch with email on; the test drives the sender with a fake clock."""

    def __init__(self, client, clock: FakeClock) -> None:
        self.client = client
        self.clock = clock
        notifications = client.app[NOTIFICATIONS]
        self.sender = notifications.sender
        self.sender.random = lambda: 0.0  # jitter at its floor: delays are exact
        self.store = self.sender.store
        # The background task would race the test's own rounds; the test runs them instead.
        notifications.task.cancel()
        self._task = notifications.task

    async def settle(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def deliver(self, rounds: int = 20) -> int:
        """Run sender rounds until nothing is due now; return how many messages were tried."""
        await self.store.flush()  # what the board submitted on its tick
        total = 0
        for _ in range(rounds):
            tried = await self.sender.run_once()
            total += tried
            if tried == 0:
                break
        return total

    async def admin(self, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {ADMIN}"}
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def open_incident(
        self, title: str, component: str = "checkout", status: str = "major_outage"
    ) -> str:
        resp = await self.admin(
            "POST",
            "/api/v1/incidents",
            json={
                "title": title,
                "body": f"{title}: we are looking into it.",
                "components": {component: status},
            },
        )
        assert resp.status == 201, await resp.text()
        return (await resp.json())["id"]

    async def update_incident(self, incident_id: str, body: str, status: str) -> None:
        resp = await self.admin(
            "POST",
            f"/api/v1/incidents/{incident_id}/updates",
            json={"body": body, "status": status},
        )
        assert resp.status == 201, await resp.text()

    async def subscribe(self, address: str, components: list[str] | None = None):
        body = {"email": address}
        if components is not None:
            body["components"] = components
        return await self.client.post("/api/v1/subscribers", json=body)

    async def follow_confirmation(self, message: EmailMessage) -> str:
        """Open the confirmation link and press its button; return the page."""
        path = urlsplit(link_in(message, "/subscriptions/confirm/")).path
        page = await self.client.get(path)
        assert page.status == 200
        csrf = CSRF.search(await page.text()).group(1)
        done = await self.client.post(path, data={"csrf": csrf, "action": "confirm"})
        assert done.status == 200
        return await done.text()

    async def confirmed(self, mailbox: Mailbox, address: str, **kwargs) -> None:
        """Subscribe and confirm through HTTP, as a person would."""
        assert (await self.subscribe(address, **kwargs)).status == 202
        await self.deliver()
        (confirmation,) = mailbox.to(address)
        assert "You are subscribed" in await self.follow_confirmation(confirmation)
        mailbox.messages.remove(confirmation)


def text_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def link_in(message: EmailMessage, prefix: str) -> str:
    found = re.search(
        r"http://status\.test" + re.escape(prefix) + r"[A-Za-z0-9_-]+", text_part(message)
    )
    assert found, text_part(message)
    return found.group(0)


async def start_rig(aiohttp_client, config, clock: FakeClock, store: Store | None = None) -> Rig:
    app = create_app(config, clock=clock, probe=False, environ=ENV, store=store)
    return Rig(await aiohttp_client(app), clock)
