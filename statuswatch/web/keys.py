"""Every typed application key, in one place (and the type of the resources that set them)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import jinja2
from aiohttp import web
from prometheus_client import CollectorRegistry

from statuswatch.agent.hub import LocationHub
from statuswatch.auth.ratelimit import RateLimiter
from statuswatch.clock import Clock
from statuswatch.cluster.node import ClusterNode
from statuswatch.config import Config
from statuswatch.metrics.endpoint import MetricsEndpoint
from statuswatch.metrics.snapshot import SlaSnapshot
from statuswatch.monitor.monitoring import Monitoring
from statuswatch.notify.runtime import Notifications
from statuswatch.notify.stats import NotifyStats
from statuswatch.roles.forward import MonitorLink
from statuswatch.roles.published import PublishedBoard
from statuswatch.status.board import StatusBoard
from statuswatch.store import StoreProtocol
from statuswatch.web.render_cache import RenderCache

# One resource of the app, opened at start-up and closed in reverse (an aiohttp cleanup_ctx).
Resource = Callable[[web.Application], AsyncIterator[None]]

CONFIG = web.AppKey("config", Config)
# Which processes' work this app does: "all" (one process), "monitor" or "web" (README
# "Processes"). In the monitor role every request comes from a web worker over its socket.
ROLE = web.AppKey("role", str)
# The web role's client of the monitor role (writes and admin calls go through it).
MONITOR_LINK = web.AppKey("monitor_link", MonitorLink)
CLOCK = web.AppKey("clock", Clock)
STORE = web.AppKey("store", StoreProtocol)
MONITORING = web.AppKey("monitoring", Monitoring)
# The monitor's board; in the web role what it published (the same read attributes).
BOARD = web.AppKey("board", StatusBoard | PublishedBoard)  # type: ignore[arg-type]
TEMPLATES = web.AppKey("templates", jinja2.Environment)
# sha256 digest of the admin token, or None when no token is configured (the API is then closed).
ADMIN_TOKEN = web.AppKey("admin_token", bytes | None)  # type: ignore[arg-type]
# Failed authentications and unknown push tokens, per client address.
AUTH_LIMITER = web.AppKey("auth_limiter", RateLimiter)
STARTED_AT = web.AppKey("started_at", float)
RENDER_CACHE = web.AppKey("render_cache", RenderCache)
# /healthz and /metrics are computed at most once a second: many pollers share one answer.
HEALTH_CACHE = web.AppKey("health_cache", RenderCache)
# Prometheus: the app's own registry (never the global default one), what /metrics serves from,
# and the SLA gauges' last computation (refreshed by housekeeping).
METRICS_REGISTRY = web.AppKey("metrics_registry", CollectorRegistry)
METRICS = web.AppKey("metrics", MetricsEndpoint)
SLA_SNAPSHOT = web.AppKey("sla_snapshot", SlaSnapshot)
# Email subscriptions and the notification sender (statuswatch/notify/runtime.py).
NOTIFICATIONS = web.AppKey("notifications", Notifications)
# Notification attempts and outbox counts for /metrics (only when metrics are enabled).
NOTIFY_STATS = web.AppKey("notify_stats", NotifyStats)
# The locations' agent tokens and the agents heard (monitor role; web/agent_api.py).
LOCATION_HUB = web.AppKey("location_hub", LocationHub)
# This node among several on PostgreSQL (its lease and link to the leader); absent on SQLite.
CLUSTER = web.AppKey("cluster", ClusterNode)
# sha256 digest of the nodes' shared token (STATUSWATCH_CLUSTER_TOKEN), or None when unset.
CLUSTER_TOKEN = web.AppKey("cluster_token", bytes | None)  # type: ignore[arg-type]
