"""Email messages from templates: a text and an HTML part, and the headers RFC 8058 asks for."""

from __future__ import annotations

import ipaddress
import uuid
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from typing import Any
from urllib.parse import urlsplit

import jinja2

from statuswatch.clock import utc
from statuswatch.config.model import EmailSettings, Site
from statuswatch.notify.mail_view import incident_view
from statuswatch.resources import resource_dir
from statuswatch.site.stamps import stamp

# Long URLs in List-Unsubscribe stay on one header line (RFC 5322 allows 998 characters);
# folding them inside the angle brackets trips up some clients' one-click handling.
_POLICY = SMTP.clone(max_line_length=998)


def one_line(text: str) -> str:
    """Collapse whitespace, CR and LF included: header values can never be split."""
    return " ".join(text.split())


def _environment() -> jinja2.Environment:
    # HTML parts are escaped; text parts are plain text and never parsed as HTML. Templates are
    # files shipped with statuswatch: user text is only ever a value, never a template.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(resource_dir("templates") / "email"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def list_domain(site: Site, from_address: str) -> str:
    """The site's host name, the right-hand side of List-Id and Message-ID; where the site has
    none that can be one (an IP address, a name without a dot), the sender address's domain."""
    host = (urlsplit(site.base_url).hostname or "").rstrip(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if "." in host:
            return host
    return "status." + from_address.rpartition("@")[2]


class MessageBuilder:
    """Builds each outgoing email; the Message-ID follows from a key, so a retry repeats it."""

    def __init__(self, settings: EmailSettings, site: Site, id_seed: str) -> None:
        """`id_seed`: a random value kept with the database, so its row numbers never repeat
        another database's Message-IDs."""
        self.settings = settings
        self.site = site
        self.site_title = site.title
        self.env = _environment()
        self.domain = list_domain(site, settings.from_address)
        self.id_space = uuid.uuid5(uuid.NAMESPACE_URL, f"statuswatch:{id_seed}")

    def message_id(self, key: str) -> str:
        """The Message-ID for an idempotency key (outbox row and event): stable across retries,
        unique across databases (the key is hashed with this database's random seed)."""
        return f"<{uuid.uuid5(self.id_space, key).hex}@{self.domain}>"

    def _base(self, to: str, subject: str, key: str, now: float) -> EmailMessage:
        msg = EmailMessage(policy=_POLICY)
        msg["From"] = formataddr((one_line(self.settings.from_name), self.settings.from_address))
        msg["To"] = to
        msg["Subject"] = one_line(subject)
        msg["Date"] = format_datetime(utc(now))
        msg["Message-ID"] = self.message_id(key)
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
        # RFC 2919: clients file and filter the site's mail as one list.
        msg["List-Id"] = f"{one_line(self.site_title)} <{self.domain}>"
        return msg

    def _parts(self, msg: EmailMessage, name: str, context: dict[str, Any]) -> EmailMessage:
        msg.set_content(self.env.get_template(f"{name}.txt").render(context))
        msg.add_alternative(self.env.get_template(f"{name}.html").render(context), subtype="html")
        return msg

    def _unsubscribe_headers(self, msg: EmailMessage, unsubscribe_url: str) -> None:
        """RFC 2369 and RFC 8058: a one-click HTTPS link and a mailto alternative."""
        msg["List-Unsubscribe"] = (
            f"<{unsubscribe_url}>, <mailto:{self.settings.from_address}?subject=unsubscribe>"
        )
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"

    def confirmation(
        self, to: str, confirm_url: str, unsubscribe_url: str, expires: float, key: str, now: float
    ) -> EmailMessage:
        """The one message an unconfirmed address receives (one click ends even that)."""
        subject = f"[{self.site_title}] Confirm your subscription to status updates"
        msg = self._base(to, subject, key, now)
        self._unsubscribe_headers(msg, unsubscribe_url)
        context = {
            "site_title": self.site_title,
            "confirm_url": confirm_url,
            "unsubscribe_url": unsubscribe_url,
            "subject": subject,
            "expires": stamp(expires, self.site.tz).text,
            **self._look(),
        }
        return self._parts(msg, "confirm", context)

    def incident(
        self,
        to: str,
        payload: dict[str, Any],
        manage_url: str,
        unsubscribe_url: str,
        key: str,
        now: float,
    ) -> EmailMessage:
        """An incident update, with the one-click unsubscribe headers (RFC 8058)."""
        view = incident_view(payload["incident"], self.site_title, self.site.tz)
        msg = self._base(to, view.subject, key, now)
        self._unsubscribe_headers(msg, unsubscribe_url)
        context = {
            **view.context,
            **self._look(),
            "manage_url": manage_url,
            "unsubscribe_url": unsubscribe_url,
        }
        return self._parts(msg, "incident", context)

    def _look(self) -> dict[str, str]:
        """What makes a message look like the status site: its title, accent and address."""
        return {
            "site_title": self.site_title,
            "accent": self.site.accent,
            "site_url": self.site.base,
        }
