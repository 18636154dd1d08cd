"""Subscription pages and API: subscribe, confirm, manage, unsubscribe (RFC 8058 one-click).

Every answer to a subscribe request is the same bytes whatever the address's state (no
enumeration). HTML forms carry a signed CSRF token (subscriptions/forms.py); the only POST without
one is the RFC 8058 one-click unsubscribe, whose URL token is itself the credential.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from aiohttp import web

from statuswatch.store.outbox_reads import SubscriberRecord
from statuswatch.subscriptions.service import Subscriptions
from statuswatch.web.json_io import read_body
from statuswatch.web.keys import CONFIG, NOTIFICATIONS, RENDER_CACHE, TEMPLATES
from statuswatch.web.not_found import html_404
from statuswatch.web.render_cache import off_loop, respond
from statuswatch.web.security import client_key, refuse_if_limited, too_many

ACCEPTED_TEXT = (
    "If that address can receive mail, a confirmation email is on its way. Follow its link to "
    "start receiving updates."
)
ACCEPTED_JSON = json.dumps({"status": "accepted", "message": ACCEPTED_TEXT}).encode()
ONE_CLICK = "List-Unsubscribe=One-Click"


class NewSubscriber(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: str
    components: list[str] = []


def _service(request: web.Request) -> Subscriptions:
    service = request.app[NOTIFICATIONS].subscriptions
    if service is None:
        raise web.HTTPNotFound(text="email subscriptions are not enabled")
    return service


async def _page(
    request: web.Request, template: str, status: int = 200, **context: Any
) -> web.Response:
    env = request.app[TEMPLATES]
    body = await off_loop(
        env.get_template(template).render, {"site": request.app[CONFIG].site, **context}
    )
    # Pages behind a token are the holder's alone: never stored by a shared cache.
    return web.Response(
        body=body,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )


async def _message(
    request: web.Request,
    heading: str,
    text: str,
    status: int = 200,
    form: dict[str, Any] | None = None,
) -> web.Response:
    return await _page(request, "subscription.html", status, heading=heading, text=text, form=form)


def _form_context(
    service: Subscriptions, email: str = "", errors: list[str] | None = None
) -> dict[str, Any]:
    return {
        "csrf": service.signer.token("/subscribe"),
        "email": email,
        "errors": errors or [],
        "components": list(service.components.items()),
    }


async def subscribe_form(request: web.Request) -> web.Response:
    """GET /subscribe: the form (rendered at most once per cache_ttl)."""
    service = _service(request)
    env, site = request.app[TEMPLATES], request.app[CONFIG].site

    async def render() -> bytes:
        template = env.get_template("subscribe.html")
        return await off_loop(template.render, {"site": site, **_form_context(service)})

    entry = await request.app[RENDER_CACHE].get("/subscribe", render)
    return respond(request, entry, content_type="text/html", max_age=0)


async def _bad_form(request: web.Request) -> web.Response:
    return await _message(
        request, "This form has expired", "Please go back, reload the page and try again.", 400
    )


async def subscribe_post(request: web.Request) -> web.Response:
    """POST /subscribe: the same page for every address, whatever its state."""
    service = _service(request)
    form = await request.post()
    if not service.signer.valid(str(form.get("csrf", "")), "/subscribe"):
        return await _bad_form(request)
    email = str(form.get("email", ""))
    components = [str(c) for c in form.getall("components", [])]
    if problems := list(service.problems(email, components)):
        context = _form_context(service, email.strip()[:254], problems)
        return await _page(request, "subscribe.html", 422, **context)
    if not form.get("website"):  # the honeypot: a person never fills it, so a bot gets nothing
        await service.subscribe(client_key(request), email, components)
    return await _message(request, "Check your inbox", ACCEPTED_TEXT)


async def subscribe_api(request: web.Request) -> web.Response:
    """POST /api/v1/subscribers: JSON, same rules; 202 with the same body for every address."""
    service = _service(request)
    # Only JSON: a cross-site HTML form cannot send application/json without a CORS preflight.
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text='{"error": "send application/json"}', content_type="application/json"
        )
    body = await read_body(request, NewSubscriber)
    req = body.check(service.problems(body.value.email, body.value.components))
    await service.subscribe(client_key(request), req.email, req.components)
    return web.Response(body=ACCEPTED_JSON, status=202, content_type="application/json")


async def _holder(request: web.Request, purpose: str) -> SubscriberRecord | None:
    refuse_if_limited(request, "subscription")
    sub = await _service(request).holder(request.match_info["token"], purpose)
    if sub is None and (limited := too_many(request, "subscription")) is not None:
        raise limited  # guessing tokens costs the guesser
    return sub


async def _dead_link(request: web.Request) -> web.Response:
    return await _message(
        request,
        "This link does not work",
        "It has expired, was already used, or was never valid.",
        404,
    )


async def confirm_form(request: web.Request) -> web.Response:
    """GET /subscriptions/confirm/{token}: a button; following the link alone changes nothing."""
    if await _holder(request, "confirm") is None:
        return await _dead_link(request)
    form = {
        "action": request.path,
        "csrf": _service(request).signer.token(request.path),
        "buttons": [("confirm", "Confirm my subscription")],
    }
    return await _message(
        request,
        "Confirm your subscription",
        "Press the button to start receiving status updates.",
        form=form,
    )


async def confirm_post(request: web.Request) -> web.Response:
    """POST /subscriptions/confirm/{token}: confirm (the token is spent)."""
    service = _service(request)
    form = await request.post()
    if not service.signer.valid(str(form.get("csrf", "")), request.path):
        return await _bad_form(request)
    if await service.confirm(request.match_info["token"]) is None:
        return await _dead_link(request)
    return await _message(
        request,
        "You are subscribed",
        "You will receive an email when something changes. Every email has "
        "links to change what you receive or to unsubscribe.",
    )


def _manage_form(request: web.Request, sub: SubscriberRecord) -> dict[str, Any]:
    service = _service(request)
    chosen = set(sub.components or ())
    return {
        "action": request.path,
        "csrf": service.signer.token(request.path),
        "components": [
            {"id": cid, "name": name, "checked": cid in chosen}
            for cid, name in service.components.items()
        ],
        "buttons": [("save", "Save my choice"), ("unsubscribe", "Unsubscribe")],
    }


async def manage_page(request: web.Request) -> web.Response:
    """GET /subscriptions/{token}: the component choice, and unsubscribe."""
    sub = await _holder(request, "manage")
    if sub is None or sub.state != "confirmed":
        return await _dead_link(request)
    return await _message(
        request,
        "Your subscription",
        f"Updates go to {sub.address}.",
        form=_manage_form(request, sub),
    )


async def manage_post(request: web.Request) -> web.Response:
    """POST /subscriptions/{token}: save the choice or unsubscribe."""
    service = _service(request)
    form = await request.post()
    if not service.signer.valid(str(form.get("csrf", "")), request.path):
        return await _bad_form(request)
    sub = await _holder(request, "manage")
    if sub is None or sub.state != "confirmed":
        return await _dead_link(request)
    if form.get("action") == "unsubscribe":
        await service.unsubscribe(sub)
        return await _unsubscribed(request)
    components = [str(c) for c in form.getall("components", [])]
    if problems := list(service.problems(sub.address, components)):
        return await _message(
            request, "Your subscription", "; ".join(problems), 422, form=_manage_form(request, sub)
        )
    await service.set_components(sub, components)
    return await _message(request, "Saved", "Your choice of components is saved.")


async def unsubscribe_form(request: web.Request) -> web.Response:
    """GET /unsubscribe/{token}: a confirmation form only (mail scanners follow links)."""
    if await _holder(request, "unsubscribe") is None:
        return await _dead_link(request)
    form = {
        "action": request.path,
        "csrf": _service(request).signer.token(request.path),
        "buttons": [("unsubscribe", "Unsubscribe")],
    }
    return await _message(
        request, "Unsubscribe", "Press the button to stop all status emails.", form=form
    )


async def unsubscribe_post(request: web.Request) -> web.Response:
    """POST /unsubscribe/{token}: the form (with CSRF token) or RFC 8058 one-click (without)."""
    service = _service(request)
    form = await request.post()
    one_click = form.get("List-Unsubscribe") == "One-Click"
    if not one_click and not service.signer.valid(str(form.get("csrf", "")), request.path):
        return await _bad_form(request)
    sub = await _holder(request, "unsubscribe")
    if sub is None:
        return await _dead_link(request)
    await service.unsubscribe(sub)
    return await _unsubscribed(request)


async def _unsubscribed(request: web.Request) -> web.Response:
    return await _message(
        request, "You are unsubscribed", "No more status emails will be sent to this address."
    )


def add_routes(app: web.Application) -> None:
    # base.html's footer links here when subscriptions are on (None hides the link).
    app[TEMPLATES].globals["subscribe_url"] = "/subscribe" if app[CONFIG].email.enabled else None
    app.router.add_get("/subscribe", html_404(subscribe_form))
    app.router.add_post("/subscribe", html_404(subscribe_post))
    app.router.add_post("/api/v1/subscribers", subscribe_api)
    app.router.add_get("/subscriptions/confirm/{token}", html_404(confirm_form))
    app.router.add_post("/subscriptions/confirm/{token}", html_404(confirm_post))
    app.router.add_get("/subscriptions/{token}", html_404(manage_page))
    app.router.add_post("/subscriptions/{token}", html_404(manage_post))
    app.router.add_get("/unsubscribe/{token}", html_404(unsubscribe_form))
    app.router.add_post("/unsubscribe/{token}", html_404(unsubscribe_post))
