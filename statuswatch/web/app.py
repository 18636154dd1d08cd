"""The application factory: one cleanup_ctx per resource, opened in order, closed in reverse."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator, Mapping

import jinja2
from aiohttp import web
from prometheus_client import CollectorRegistry, ProcessCollector

from statuswatch.agent.hub import LocationHub
from statuswatch.auth.ratelimit import RateLimiter
from statuswatch.auth.tokens import token_digest
from statuswatch.clock import Clock, SystemClock
from statuswatch.cluster.forward import LeaderRouter
from statuswatch.cluster.node import ClusterNode
from statuswatch.cluster.settings import cluster_token
from statuswatch.config import Config, read_secret
from statuswatch.metrics.collector import StatuswatchCollector
from statuswatch.metrics.endpoint import MetricsEndpoint
from statuswatch.metrics.scheduling import LATENESS_BUCKETS
from statuswatch.metrics.snapshot import SlaSnapshot
from statuswatch.monitor.housekeeping import start_housekeeping
from statuswatch.monitor.monitoring import Monitoring
from statuswatch.monitor.tally import Buckets
from statuswatch.notify.outbox_events import OutboxEvents
from statuswatch.notify.runtime import start_notifications
from statuswatch.notify.stats import NotifyStats
from statuswatch.resources import resource_dir
from statuswatch.roles.forward import (
    ForwardingApp,
    ForwardingRouter,
)
from statuswatch.roles.publisher import Publisher
from statuswatch.sla.report_tokens import ensure_report_tokens
from statuswatch.status.board import StatusBoard
from statuswatch.store import StoreProtocol
from statuswatch.store.open import open_when_reachable, storage_url
from statuswatch.web import (
    agent_api,
    api,
    badge_routes,
    calendar_ics,
    customer,
    feeds,
    health,
    incidents_api,
    maintenance_api,
    metrics,
    node_role,
    openapi,
    pages,
    push_api,
    site_pages,
    sla_api,
    statuspage_api,
    subscribers_admin,
    subscriptions,
    theme,
    web_role,
)
from statuswatch.web.freshness import add_freshness, stale_copy
from statuswatch.web.keys import (
    ADMIN_TOKEN,
    AUTH_LIMITER,
    BOARD,
    CLOCK,
    CLUSTER,
    CLUSTER_TOKEN,
    CONFIG,
    HEALTH_CACHE,
    LOCATION_HUB,
    METRICS,
    METRICS_REGISTRY,
    MONITORING,
    NOTIFICATIONS,
    NOTIFY_STATS,
    RENDER_CACHE,
    ROLE,
    SLA_SNAPSHOT,
    STARTED_AT,
    STORE,
    TEMPLATES,
    Resource,
)
from statuswatch.web.not_found import add_catch_all, add_static
from statuswatch.web.render_cache import RenderCache
from statuswatch.web.security import add_security_headers, client_key, security_headers_for

log = logging.getLogger(__name__)


# Route modules whose every route changes state or is the admin's: in the web role the monitor
# role answers them (roles/forward.py), except the routes kept local beside them.
_WRITES = (
    push_api,
    agent_api,
    api,
    incidents_api,
    maintenance_api,
    subscriptions,
    subscribers_admin,
)
_KEPT_LOCAL = {("GET", "/subscribe")}  # the form itself: a page, read by crowds
_READS = (
    pages,
    health,
    sla_api,
    openapi,
    customer,
    metrics,
    site_pages,
    feeds,
    calendar_ics,
    theme,
    statuspage_api,
    badge_routes,
)
ROLES = ("all", "monitor", "web")


def create_app(
    config: Config,
    *,
    store: StoreProtocol | None = None,
    clock: Clock | None = None,
    environ: Mapping[str, str] | None = None,
    probe: bool = True,
    role: str = "all",
    database_url: str | None = None,
) -> web.Application:
    """Build the app for `role`. A store passed in is the caller's to start and close; else one
    is opened (read-only in the web role). On PostgreSQL (the config's URL, or `database_url`)
    this process is a node of several: it campaigns for the lease and runs the deciding work
    only while it leads."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    clock = clock or SystemClock()
    env = dict(os.environ if environ is None else environ)
    if database_url is None and role != "web":
        database_url = storage_url(config, env)  # PostgreSQL: a node of several
    # No middlewares, on purpose: see web/not_found.py and add_security_headers.
    app = web.Application(client_max_size=64 * 1024)
    app.on_response_prepare.append(add_security_headers)
    app[ROLE] = role
    app[CONFIG] = config
    app[CLOCK] = clock
    app[STARTED_AT] = clock.time()
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(resource_dir("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    add_freshness(app)
    unset = "the admin API answers 401 to everyone"
    token = read_secret(config.site.admin_token_env, env, unset=unset)
    app[ADMIN_TOKEN] = token_digest(token) if token else None
    shared = cluster_token(env)  # a web worker trusts a node's forwarded address with it too
    app[CLUSTER_TOKEN] = token_digest(shared) if shared else None
    app[AUTH_LIMITER] = RateLimiter(clock, rate=0.5, burst=20)
    if role != "web":  # the web role forwards the agents to the monitor, which keeps them
        app[LOCATION_HUB] = LocationHub.for_config(config, env, clock)
    secure = security_headers_for(config.site)
    app[RENDER_CACHE] = RenderCache(
        clock, config.site.cache_ttl, headers=secure, idle_ttl=config.site.idle_cache_ttl
    )
    app[RENDER_CACHE].stale_copy = stale_copy(app)
    app.on_shutdown.append(app[RENDER_CACHE].close)
    # /metrics compresses on its own thread at its own level; /healthz is tiny.
    app[HEALTH_CACHE] = RenderCache(
        clock, min(1.0, config.site.cache_ttl), compress=False, headers=secure
    )
    app[METRICS_REGISTRY] = registry = CollectorRegistry(auto_describe=False)
    ProcessCollector(registry=registry)  # process_cpu_seconds_total, memory, open fds
    app[METRICS] = _metrics_endpoint(config, registry, env, forked=role == "monitor")
    # One context per resource, in start-up order: aiohttp closes them in reverse, so each
    # resource outlives everything started after it (the store outlives monitoring's flush).
    deciding: tuple[Resource, ...] = (
        _monitoring(env, probe),
        _board,
        _report_tokens(env),
        _sla_figures,
        _collector,
        _housekeeping,
        _notifications(env),
        _publisher,
    )
    if role == "web":
        contexts: tuple[Resource, ...] = web_role.resources(store, env)
    else:  # a node of several (PostgreSQL) does the deciding work only while it leads
        leading = deciding if database_url is None else (node_role.campaign(deciding),)
        contexts = (_store(store, env), _metrics_thread, *leading, _metrics_listener)
    for ctx in contexts:
        app.cleanup_ctx.append(ctx)
    for module in _READS:
        module.add_routes(app)
    if role != "web" and database_url is not None:
        app[CLUSTER] = ClusterNode(config, env, database_url, clock, client=client_key)
    for module in _WRITES:
        if role == "web":
            router = ForwardingRouter(app.router, web_role.forward, keep=_KEPT_LOCAL)
            module.add_routes(ForwardingApp(app, router))  # type: ignore[arg-type]
        elif database_url is not None:
            leader = LeaderRouter(app.router, app[CLUSTER].link, keep=_KEPT_LOCAL)
            module.add_routes(ForwardingApp(app, leader))  # type: ignore[arg-type]
        else:
            module.add_routes(app)
    add_static(app, resource_dir("static"))
    add_catch_all(app)  # last: it matches every URL
    return app


async def freeze_startup_heap(_app: web.Application) -> None:
    """on_startup, after the runtime is up: hide what lives for good from the cyclic GC.

    With 10,000 monitors a full collection walked every config, tracker and label object while
    holding the GIL: 60-75 ms during which the event loop (probes) stood still, triggered by
    whatever allocates a lot (a /metrics scrape does). Frozen, the worst stall during a scrape
    fell to ~30 ms (bench/metrics.py). Objects dropped later are still freed by refcounting.
    """
    gc.collect()
    gc.freeze()


def _metrics_endpoint(
    config: Config, registry: CollectorRegistry, env: dict[str, str], *, forked: bool
) -> MetricsEndpoint:
    unset = "/metrics answers 401 to everyone" if config.metrics.enabled else None
    token = read_secret(config.metrics.token_env, env, unset=unset)
    return MetricsEndpoint(
        registry,
        token_required=bool(config.metrics.token_env),
        token_digest=token_digest(token) if token else None,
        forked=forked,
    )


def _store(given: StoreProtocol | None, env: dict[str, str]) -> Resource:
    """The store: one passed in is the caller's to start and close; else one is opened here."""

    async def store(app: web.Application) -> AsyncIterator[None]:
        if given is None:
            opened = await open_when_reachable(app[CONFIG], env, clock=app[CLOCK])
        else:
            opened = given
        if given is None:
            await opened.start()
        app[STORE] = opened
        yield
        if given is None:
            await opened.close()

    return store


def _monitoring(env: dict[str, str], probe: bool) -> Resource:
    """The monitors' state and the probe scheduler; stopping flushes every pending write."""

    async def monitoring(app: web.Application) -> AsyncIterator[None]:
        running = app[MONITORING] = Monitoring(
            app[CONFIG], store=app[STORE], clock=app[CLOCK], environ=env
        )
        await running.start(probe=probe)
        yield
        await running.stop()

    return monitoring


async def _board(app: web.Application) -> AsyncIterator[None]:
    """The status board, fed by monitoring's events; the page caches follow its version."""
    store, monitoring = app[STORE], app[MONITORING]
    events = OutboxEvents.for_config(app[CONFIG])
    board = StatusBoard(app[CONFIG], store, app[CLOCK], events)
    if events is not None:
        events.follow(lambda: board.status)
    await board.start(monitoring.states())
    monitoring.hooks.append(board.on_events)
    board.before_tick.append(monitoring.tick)
    app[BOARD] = board
    app[RENDER_CACHE].version = lambda: board.version
    app[RENDER_CACHE].settle = store.settle
    yield


def _report_tokens(env: dict[str, str]) -> Resource:
    """Every customer's private report token (nothing to close)."""

    async def report_tokens(app: web.Application) -> AsyncIterator[None]:
        sources = await ensure_report_tokens(app[CONFIG], app[STORE], env, app[CLOCK])
        # Which customers have a report, never its URL: the token in it is the credential.
        with_report = len(sources.from_env) + len(sources.stored)
        log.info(
            "%d of %d customers have a private report (%d with the token from their env var)",
            with_report,
            with_report + len(sources.missing),
            len(sources.from_env),
        )
        if sources.missing:
            log.warning(
                "no private report yet for %s: `statuswatch report-token --customer ID` makes one",
                ", ".join(sources.missing),
            )
        yield

    return report_tokens


async def _metrics_thread(app: web.Application) -> AsyncIterator[None]:
    """The /metrics render thread (the endpoint is built with the app, its thread on demand)."""
    yield
    app[METRICS].close()


async def _sla_figures(app: web.Application) -> AsyncIterator[None]:
    """The figures housekeeping refreshes for /metrics: SLA gauges, outbox and subscribers."""
    config, store, clock = app[CONFIG], app[STORE], app[CLOCK]
    if not config.metrics.enabled:
        yield
        return
    snapshot = app[SLA_SNAPSHOT] = SlaSnapshot(config, store, clock)
    app[NOTIFY_STATS] = NotifyStats(store, clock)
    yield
    await snapshot.close()


async def _collector(app: web.Application) -> AsyncIterator[None]:
    """The collector, registered on the app's registry while the runtime it reads exists."""
    config = app[CONFIG]
    if not config.metrics.enabled:
        yield
        return
    monitoring = app[MONITORING]
    lateness = Buckets(LATENESS_BUCKETS)
    if monitoring.scheduler is not None:
        # The scheduler started before this: the runs it made meanwhile count too (no await in
        # between, so none is observed twice or missed), as statuswatch_probe_runs_total's do.
        for seen in monitoring.scheduler.stats.lateness:
            lateness.observe(seen)
        monitoring.scheduler.on_lateness.append(lateness.observe)
    collector = StatuswatchCollector(
        config,
        monitoring=monitoring,
        board=app[BOARD],
        store=app[STORE],
        snapshot=app[SLA_SNAPSHOT],
        lateness=lateness,
        loaded_at=app[STARTED_AT],
        notify=app[NOTIFY_STATS],
        agents=app[LOCATION_HUB].registry,
        clock=app[CLOCK],
        lease_families=CLUSTER not in app,  # a node of several has its own, leader or not
    )
    app[METRICS_REGISTRY].register(collector)
    yield
    app[METRICS_REGISTRY].unregister(collector)


async def _housekeeping(app: web.Application) -> AsyncIterator[None]:
    """The periodic jobs (APScheduler); a job already running is left to finish."""
    housekeeping = start_housekeeping(
        app[CONFIG],
        app[STORE],
        app[CLOCK],
        app[BOARD],
        app.get(SLA_SNAPSHOT),
        app.get(NOTIFY_STATS),
    )
    yield
    housekeeping.shutdown(wait=False)


def _notifications(env: dict[str, str]) -> Resource:
    """The notification sender; stopping leaves what is queued in the outbox."""

    async def notifications(app: web.Application) -> AsyncIterator[None]:
        sender = app[NOTIFICATIONS] = await start_notifications(
            app[CONFIG], app[STORE], app[CLOCK], env, app.get(NOTIFY_STATS)
        )
        yield
        await sender.stop()

    return notifications


async def _publisher(app: web.Application) -> AsyncIterator[None]:
    """In the monitor role, the board and health published for the web role (roles/); on a
    node of several also in the one-process role: the followers' pages show what it published."""
    if app[ROLE] != "monitor" and CLUSTER not in app:
        yield
        return
    publisher = Publisher(app[BOARD], app[STORE], app[CLOCK], lambda: health.monitor_health(app))
    publisher.start()
    yield
    await publisher.stop()


async def _metrics_listener(app: web.Application) -> AsyncIterator[None]:
    """The listener of its own that `metrics.listen` asks for."""
    try:
        listener = await metrics.start_listener(app)
    except BaseException:
        # A listener that cannot bind fails the start: close what had started, in reverse,
        # as a stop does (run_app does not clean up after a failed start).
        await app.cleanup()
        raise
    yield
    if listener is not None:
        await listener.cleanup()
