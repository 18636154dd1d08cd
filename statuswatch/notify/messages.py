"""Email messages from templates: a text and an HTML part, and the headers RFC 8058 asks for."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from typing import Any

import jinja2

from statuswatch.clock import utc
from statuswatch.config.model import EmailSettings
from statuswatch.resources import resource_dir

STATUS_LABELS = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
    "scheduled": "Scheduled maintenance",
    "in_progress": "Maintenance in progress",
    "completed": "Maintenance completed",
    "cancelled": "Maintenance cancelled",
    "operational": "operational",
    "degraded_performance": "degraded performance",
    "partial_outage": "partial outage",
    "major_outage": "major outage",
    "under_maintenance": "under maintenance",
}


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


class MessageBuilder:
    """Builds each outgoing email; the Message-ID is given, so a retry repeats it exactly."""

    def __init__(self, settings: EmailSettings, site_title: str) -> None:
        self.settings = settings
        self.site_title = site_title
        self.env = _environment()
        self.domain = settings.from_address.rpartition("@")[2]

    def message_id(self, key: str) -> str:
        """The Message-ID for an idempotency key (outbox row and event): stable across retries."""
        return f"<statuswatch.{key}@{self.domain}>"

    def _base(self, to: str, subject: str, key: str, now: float) -> EmailMessage:
        msg = EmailMessage(policy=_POLICY)
        msg["From"] = formataddr((one_line(self.settings.from_name), self.settings.from_address))
        msg["To"] = to
        msg["Subject"] = one_line(subject)
        msg["Date"] = format_datetime(utc(now))
        msg["Message-ID"] = self.message_id(key)
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
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
            "expires": format_datetime(utc(expires)),
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
        incident = payload["incident"]
        update = incident["incident_updates"][0]
        components = [
            {**c, "label": STATUS_LABELS.get(c["status"], c["status"])}
            for c in incident["components"]
        ]
        status_label = STATUS_LABELS.get(update["status"], update["status"])
        affected = ", ".join(f"{c['name']}: {c['label']}" for c in components)
        subject = f"[{self.site_title}] {status_label}: {incident['name']}"
        if affected:
            subject += f" ({affected})"
        msg = self._base(to, subject, key, now)
        self._unsubscribe_headers(msg, unsubscribe_url)
        context = {
            "incident": incident,
            "update": update,
            "components": components,
            "status_label": status_label,
            "manage_url": manage_url,
            "unsubscribe_url": unsubscribe_url,
            "subject": subject,
        }
        return self._parts(msg, "incident", context)
