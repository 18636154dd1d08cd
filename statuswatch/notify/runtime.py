"""Start and stop notifications with the app: subscriptions service, sender task, webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from statuswatch.auth.tokens import new_token
from statuswatch.clock import Clock
from statuswatch.config import Config, read_secret
from statuswatch.config.model import EmailSettings
from statuswatch.notify.channels import EmailChannel, WebhookChannel
from statuswatch.notify.dkim_sign import DkimSigner
from statuswatch.notify.messages import MessageBuilder
from statuswatch.notify.sender import Sender
from statuswatch.notify.stats import NotifyStats
from statuswatch.store import StoreProtocol
from statuswatch.store.outbox import ReleaseClaims, SaveAppSecret, SyncWebhooks
from statuswatch.store.outbox_reads import app_secret
from statuswatch.subscriptions.forms import FormSigner
from statuswatch.subscriptions.service import Subscriptions

log = logging.getLogger(__name__)
FORM_KEY = "form_signing_key"
MESSAGE_ID_SEED = "message_id_seed"


@dataclass
class Notifications:
    """The running notification parts (email subscriptions may be off: then `subscriptions` is
    None and the pages answer 404)."""

    subscriptions: Subscriptions | None
    sender: Sender | None
    task: asyncio.Task[None] | None
    session: aiohttp.ClientSession | None

    async def stop(self) -> None:
        """Stop the sender between messages' commits; what is queued waits in the outbox."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.session is not None:
            await self.session.close()


async def _kept_secret(store: StoreProtocol, name: str) -> str:
    """A random value generated once and kept in the database (the first one stored wins)."""
    store.submit(SaveAppSecret(name, new_token()))  # kept only if none is stored yet
    await store.flush()
    stored = await store.read_outbox(app_secret, name)
    assert stored is not None
    return stored


async def _form_key(config: Config, store: StoreProtocol, env: Mapping[str, str]) -> bytes:
    unset = "using the form key kept in the database"
    secret = read_secret(config.email.form_secret_env, env, unset=unset)
    if secret:
        return secret.encode()
    return (await _kept_secret(store, FORM_KEY)).encode()


def _webhook_secrets(config: Config, env: Mapping[str, str]) -> dict[str, tuple[str, str | None]]:
    out: dict[str, tuple[str, str | None]] = {}
    for hook in config.webhooks:
        unset = f"messages to webhook {hook.id} wait until it is"
        out[hook.id] = (hook.url, read_secret(hook.secret_env, env, unset=unset))
    return out


async def start_notifications(
    config: Config,
    store: StoreProtocol,
    clock: Clock,
    env: Mapping[str, str],
    stats: NotifyStats | None = None,
) -> Notifications:
    """Open what notifications need and start the sender task (when anything can be sent)."""
    email = config.email
    hooks = tuple((h.id, tuple(h.components) or None) for h in config.webhooks)
    store.submit(SyncWebhooks(hooks, clock.time()))
    store.submit(ReleaseClaims())  # this is the one sender now: earlier claims are void
    await store.flush()
    if not email.enabled and not config.webhooks:
        return Notifications(None, None, None, None)
    sender_ch = None
    subscriptions = None
    if email.enabled:
        # The system's CAs, unless ca_file names others (a private relay).
        tls = ssl.create_default_context(cafile=email.ca_file) if email.ca_file else None
        login = (
            read_secret(email.username_env, env, unset="email goes out without an SMTP login"),
            read_secret(email.password_env, env, unset="the SMTP login uses an empty password"),
        )
        sender_ch = EmailChannel(email, *login, tls, _dkim(email, env))
    session = aiohttp.ClientSession() if config.webhooks else None
    sender = Sender(
        store,
        settings=email,
        base_url=config.site.base,
        # A fresh database gets a fresh seed: its row numbers never repeat earlier Message-IDs.
        builder=MessageBuilder(email, config.site, await _kept_secret(store, MESSAGE_ID_SEED)),
        email=sender_ch,
        webhook=WebhookChannel(session, email.timeout) if session else None,
        webhook_secrets=_webhook_secrets(config, env),
        clock=clock,
        stats=stats,
    )
    if email.enabled:
        signer = FormSigner(await _form_key(config, store, env), clock)
        subscriptions = Subscriptions(
            store, email, config.component_names, clock, signer, sender.wake.set
        )
    task = asyncio.create_task(sender.run(), name="statuswatch-notify-sender")
    return Notifications(subscriptions, sender, task, session)


async def form_pages(
    config: Config, store: StoreProtocol, clock: Clock, env: Mapping[str, str], wait: float
) -> Notifications:
    """The web role's part: the subscribe form signed with the monitor role's form key (so the
    monitor accepts what it posts), read from the store; nothing is sent from here."""
    if not config.email.enabled:
        return Notifications(None, None, None, None)
    unset = "using the form key kept in the database"
    secret = read_secret(config.email.form_secret_env, env, unset=unset)
    deadline = asyncio.get_running_loop().time() + wait
    # The monitor role stores a key at its first start: a web role started beside it waits.
    while not secret and (secret := await store.read_outbox(app_secret, FORM_KEY)) is None:
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError("no form key in the database: is the monitor role running?")
        await asyncio.sleep(0.2)
    signer = FormSigner(secret.encode(), clock)
    subscriptions = Subscriptions(
        store, config.email, config.component_names, clock, signer, lambda: None
    )
    return Notifications(subscriptions, None, None, None)


def _dkim(email: EmailSettings, env: Mapping[str, str]) -> DkimSigner | None:
    """The DKIM signer, when a key is configured and present (else mail goes unsigned, loudly)."""
    if not email.dkim_key_env:
        return None
    unset = "email goes out without a DKIM signature"
    key = read_secret(email.dkim_key_env, env, unset=unset, level=logging.ERROR)
    if key is None:
        return None
    domain = email.dkim_domain or email.from_address.rpartition("@")[2]
    try:
        return DkimSigner(key, email.dkim_selector, domain)
    except ImportError:
        log.error("DKIM needs dkimpy (pip install 'statuswatch[dkim]'): sending unsigned")
        return None
