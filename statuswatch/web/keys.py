"""Every typed application key, in one place."""

from __future__ import annotations

import jinja2
from aiohttp import web

from statuswatch.clock import Clock
from statuswatch.config import Config
from statuswatch.monitoring import Monitoring
from statuswatch.ratelimit import RateLimiter
from statuswatch.status_board import StatusBoard
from statuswatch.store import Store

CONFIG = web.AppKey("config", Config)
CLOCK = web.AppKey("clock", Clock)
STORE = web.AppKey("store", Store)
MONITORING = web.AppKey("monitoring", Monitoring)
BOARD = web.AppKey("board", StatusBoard)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
# sha256 digest of the admin token, or None when no token is configured (the API is then closed).
ADMIN_TOKEN = web.AppKey("admin_token", bytes | None)  # type: ignore[arg-type]
# Failed authentications and unknown push tokens, per client address.
AUTH_LIMITER = web.AppKey("auth_limiter", RateLimiter)
STARTED_AT = web.AppKey("started_at", float)
