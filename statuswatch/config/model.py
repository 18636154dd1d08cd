"""The typed, frozen shape of config.toml.

Decoding is strict (unknown keys are errors) and every error carries its key path; see loader.py.
To add a section: define its Struct here, add one field to `Config`, and (if it references other
ids) one check in loader.py.

Values derived from the config (the site's timezone object, its base URL without the trailing
slash, the component names, an http monitor's parsed URL and status ranges) are cached
properties: computed once per object, so no caller recomputes them. Those classes carry a
`__dict__` for that cache only (dict=True); their fields stay frozen.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec
from yarl import URL

from statuswatch.config.durations import Duration
from statuswatch.config.status_codes import parse_status_range
from statuswatch.sla.availability import UnmonitoredPolicy
from statuswatch.sla.credits import CreditScheme


class _Section(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


# Validated by shape because /theme.css writes them into CSS: nothing else can get through.
Colour = Annotated[str, msgspec.Meta(pattern=r"^#[0-9a-fA-F]{6}$")]
Target = Annotated[float, msgspec.Meta(gt=0, lt=100)]


class FooterLink(_Section):
    label: str
    url: Annotated[str, msgspec.Meta(pattern=r"^(https?://|/)[^\s<>\"']*$")]


class Site(_Section, dict=True):
    title: str = "Status"
    base_url: str = "http://127.0.0.1:8080"
    listen: str = "127.0.0.1:8080"
    timezone: str = "UTC"
    # Name of the env var holding the admin API token (or NAME_FILE with its path).
    admin_token_env: str = "STATUSWATCH_ADMIN_TOKEN"  # noqa: S105 - a variable name
    # Public pages are rendered at most once per this long, however many people ask (0: always).
    cache_ttl: Duration = Duration(2)
    # ...and while nothing they show has changed (no monitor event, status, incident or
    # maintenance edit), at most once per this long (the clock-driven figures move slowly).
    idle_cache_ttl: Duration = Duration(60)
    # A same-origin path ("/static/logo.svg"): the CSP allows images from this site only.
    logo_url: Annotated[str, msgspec.Meta(pattern=r"^(/[^\s<>\"']*)?$")] = ""
    # Link and header colour in the light and the dark theme (served as /theme.css).
    accent: Colour = "#0969da"
    accent_dark: Colour = "#4493f8"
    footer_links: list[FooterLink] = []
    # Availability targets (percent) the site shows every service against.
    targets: list[Target] = msgspec.field(default_factory=lambda: [99.8, 99.9, 99.99])
    # CSP frame-ancestors: who may embed the site in a frame ("'none'": nobody; "'self' https://x").
    frame_ancestors: str = "'none'"
    # Site connections open at once; beyond it the oldest connection still sending its request
    # head is closed, or the newcomer gets a bare 503. 0: derived from the descriptor limit,
    # after the probes' reserve (README "Resources"), so the site cannot starve the probes.
    max_connections: int = 0
    # A connection must deliver its first request head within this long (slowloris).
    request_head_timeout: Duration = Duration(10)
    # Web processes serving the site beside the one monitor process (README "Processes"), so
    # page load cannot slow the probes. 0: the site runs inside the monitor process.
    workers: int = 2

    @cached_property
    def tz(self) -> ZoneInfo:
        """The timezone the site shows times and calendar months in."""
        return ZoneInfo(self.timezone)

    @cached_property
    def base(self) -> str:
        """base_url without its trailing slash: what every absolute link starts with."""
        return self.base_url.rstrip("/")


class Storage(_Section):
    path: str = "statuswatch.db"
    # PostgreSQL instead of SQLite: the env var holding its URL (secrets only from the
    # environment), or the URL itself without a password. Neither: SQLite at `path`.
    url_env: str | None = None
    url: str | None = None

    @property
    def backend(self) -> Literal["sqlite", "postgresql"]:
        """Which database statuswatch keeps its data in."""
        return "postgresql" if self.url or self.url_env else "sqlite"

    # Raw passing checks are folded into hourly rollups and deleted after this long; failing
    # checks and transitions are kept (they are the evidence behind an SLA claim).
    raw_retention: Duration = Duration(48 * 3600)
    # Hourly rollups are kept this long (a year of SLA history plus a margin).
    rollup_retention: Duration = Duration(400 * 86400)
    # Items waiting in memory while the database is unreachable; past it the oldest passing
    # checks are dropped (counted), never a transition, outage, gap, incident or message.
    max_pending: int = 100_000


class Cluster(_Section):
    """Several nodes on one PostgreSQL (README "Running several nodes"); unused on SQLite."""

    # This node's name in the leader lease; empty: the machine's hostname.
    node: Annotated[str, msgspec.Meta(pattern=r"^([A-Za-z0-9][A-Za-z0-9._-]{0,62})?$")] = ""
    # How long a leader's lease lasts without a renew (renewed every third of it).
    lease_ttl: Duration = Duration(15)
    # The URL other nodes reach THIS node's site at (followers forward writes to the leader's);
    # empty: site.base_url.
    advertise: str = ""


class Defaults(_Section):
    interval: Duration = Duration(60)
    timeout: Duration = Duration(10)
    confirm_failures: int = 2
    confirm_recoveries: int = 1


class Probing(_Section):
    # Probes in flight at once, across all monitors.
    max_in_flight: int = 512
    # A run that cannot start within this much of its slot is skipped (and counted), never queued.
    max_lateness: Duration = Duration(10)
    # Where every monitor is probed from unless it says otherwise ("local": this process).
    locations: list[str] = msgspec.field(default_factory=lambda: ["local"])
    # Locations that must see a monitor down for it to be down; 0: a strict majority.
    quorum: int = 0


class Location(_Section):
    """A place agents probe from (README "Probing from several locations")."""

    id: str
    name: str
    # Env var holding the bearer token this location's agents send (or NAME_FILE).
    token_env: str


class MetricsSettings(_Section):
    """Prometheus metrics at /metrics (see README "Metrics")."""

    enabled: bool = True
    # "host:port" of a separate listener serving only /metrics; empty: the site's own server.
    listen: str = ""
    # Env var holding the bearer token scrapers must send (or NAME_FILE); empty: no token.
    token_env: str = ""
    # How often the SLA gauges (availability windows, customers' figures) are recomputed.
    sla_refresh: Duration = Duration(60)
    # statuswatch_probe_phase_duration_seconds: five series per http monitor; off for fleets
    # where that is too many.
    probe_phases: bool = True


class Group(_Section):
    id: str
    name: str
    description: str = ""


class FractionThresholds(_Section):
    """Percent of a component's monitors down at which it is degraded / partial / major."""

    degraded: float = 1.0
    partial: float = 5.0
    major: float = 50.0


class Component(_Section):
    id: str
    name: str
    group: str | None = None
    description: str = ""
    # Open incidents automatically when this component goes into an outage.
    auto_incident: bool = True
    # "any": the worst monitor decides; "fraction": thresholds on the share of monitors down.
    status_rule: Literal["any", "fraction"] = "any"
    fraction: FractionThresholds = FractionThresholds()


class _MonitorBase(_Section, tag_field="kind"):
    id: str
    component: str
    name: str = ""
    # None means "take it from [defaults]"; Config.monitors holds resolved values.
    interval: Duration | None = None
    timeout: Duration | None = None
    confirm_failures: int | None = None
    confirm_recoveries: int | None = None
    # None: [probing] locations and quorum; Config.monitors holds the resolved values.
    locations: list[str] | None = None
    quorum: int | None = None

    @property
    def kind(self) -> str:
        """The monitor kind ("http", "tcp", ...): msgspec keeps the tag on the class."""
        return str(self.__struct_config__.tag)


class HttpMonitor(_MonitorBase, tag="http", kw_only=True, dict=True):
    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "OPTIONS"] = "GET"
    headers: dict[str, str] = {}
    body: str | None = None
    # Status codes that pass: numbers or "200-299" ranges.
    expect_status: list[int | str] = msgspec.field(default_factory=lambda: ["200-399"])
    body_contains: str | None = None
    body_regex: str | None = None
    # Dotted path into a JSON body ("status", "checks.0.ok") that must equal json_equals.
    json_field: str | None = None
    json_equals: str | int | float | bool | None = None
    degraded_after: Duration | None = None
    follow_redirects: bool = True
    max_redirects: int = 5
    max_body_bytes: int = 1024 * 1024
    verify_tls: bool = True
    ca_file: str | None = None
    reuse_connections: bool = False

    @cached_property
    def request_url(self) -> URL:
        """The URL, parsed (the loader has checked it)."""
        return URL(self.url)

    @cached_property
    def status_ranges(self) -> tuple[tuple[int, int], ...]:
        """expect_status as inclusive (low, high) ranges (the loader has checked them)."""
        return tuple(map(parse_status_range, self.expect_status))


class TcpMonitor(_MonitorBase, tag="tcp", kw_only=True):
    host: str
    port: int
    send: str | None = None
    expect: str | None = None


class TlsMonitor(_MonitorBase, tag="tls", kw_only=True):
    host: str
    port: int = 443
    server_name: str | None = None
    warn_days: int = 14
    ca_file: str | None = None


class DnsMonitor(_MonitorBase, tag="dns", kw_only=True):
    # Named "query" rather than "name" because "name" is every monitor's display name.
    query: str
    record_type: Literal["A", "AAAA", "CNAME"] = "A"
    expect: list[str] = []
    # "host" or "host:port"; the system resolver's servers when unset.
    server: str | None = None


class PushMonitor(_MonitorBase, tag="push", kw_only=True):
    # Env var holding this monitor's push token (or NAME_FILE); the URL is /push/<token>.
    token_env: str
    # Silence longer than interval + grace is a failure.
    grace: Duration = Duration(60)


class SlaPolicy(_Section, kw_only=True):
    id: str
    name: str
    target_percent: float
    period: Literal["month", "year"] = "month"
    timezone: str = "UTC"
    credit: CreditScheme
    # A claim is due within this many days after the period ends (none: no deadline).
    claim_window_days: int | None = None
    # How the contract counts time without evidence (docs/sla.md "Figures"): as available (the
    # seeds' formula), left out of the denominator, or as downtime.
    unmonitored_policy: UnmonitoredPolicy = "available"
    # Regional time (down from fewer locations than the quorum): available, or downtime.
    regional_counts_as: Literal["available", "downtime"] = "available"


class Customer(_Section, kw_only=True):
    id: str
    name: str
    plan: str
    fee: float = 0
    currency: str = "USD"
    # Components the plan covers (platform components and the merchant's own storefront).
    components: list[str]
    contact_email: str = ""
    # Env var holding the token of the customer's private report (/customers/<token>); when it
    # is unset a token is generated once and kept in the database.
    report_token_env: str | None = None


class Maintenance(_Section, kw_only=True):
    id: str
    title: str
    description: str = ""
    components: list[str]
    kind: Literal["scheduled", "emergency"] = "scheduled"
    # One-off: start and end (or start and duration). Recurring: start is the first occurrence,
    # in `timezone` when it has no offset, repeated by an RFC 5545 rrule for `duration`.
    start: datetime
    end: datetime | None = None
    duration: Duration | None = None
    rrule: str | None = None
    timezone: str = "UTC"
    # A cancelled window stays listed (as cancelled) but excuses nothing.
    cancelled: bool = False


class Incidents(_Section):
    """Automatic incidents. Texts use $component and $status (never a template engine)."""

    quiet_period: Duration = Duration(900)
    # A monitor regional this long is logged at WARNING for the operator (0s: never).
    regional_alert_after: Duration = Duration(900)
    title: str = "$component is unavailable"
    # The title while several components are affected ($component: their names, joined).
    title_several: str = "$component are unavailable"
    opened: str = "We are investigating problems with $component ($status)."
    joined: str = "$component is also affected ($status)."
    recovered: str = "$component has recovered; we are monitoring."
    resolved: str = "All affected components have been operating normally for a while."
    # Opens an incident announced late (its results reached us after the fact); $start: when
    # the problem began, in UTC.
    opened_late: str = (
        "We are investigating problems with $component ($status), which began at $start."
    )
    # Severity given to an automatic incident, by its impact.
    severity_by_impact: dict[str, str] = msgspec.field(
        default_factory=lambda: {"critical": "S1", "major": "S1", "minor": "S3", "none": "S4"}
    )


class SeverityLevel(_Section):
    id: str
    name: str
    first_response: Duration
    update_every: Duration | None = None


class EmailSettings(_Section):
    """Email subscriptions and SMTP delivery (README "Subscriptions and notifications")."""

    enabled: bool = False
    # The From header; msgspec reads it from the key "from" (a Python keyword).
    from_address: str = msgspec.field(name="from", default="status@example.com")
    from_name: str = ""
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 587
    # "starttls" (required, not opportunistic), "implicit" (TLS from the first byte), "none".
    tls: Literal["starttls", "implicit", "none"] = "starttls"
    # Env vars holding the SMTP login (or NAME_FILE); empty: no authentication.
    username_env: str = ""
    password_env: str = ""
    # PEM file of CAs to trust for the SMTP server's certificate (default: the system's).
    ca_file: str | None = None
    timeout: Duration = Duration(30)
    # A confirmation link works this long.
    confirm_ttl: Duration = Duration(72 * 3600)
    # Updates to one incident within this window go out as one message.
    coalesce: Duration = Duration(120)
    # At most one confirmation email per address per this long, however often it is submitted.
    confirm_interval: Duration = Duration(3600)
    # Subscribe requests per client address: a burst, then this many per hour.
    ip_burst: int = 10
    ip_per_hour: float = 20.0
    # Temporary failures are retried after retry_base, doubling up to retry_cap, with jitter.
    retry_base: Duration = Duration(30)
    retry_cap: Duration = Duration(3600)
    # How often the sender looks for due messages (it is also woken when one is queued).
    poll_interval: Duration = Duration(5)
    # Sent, failed and cancelled messages and their delivery attempts are kept this long (the
    # record of who was told what, and when); pending ones are never pruned.
    retention: Duration = Duration(90 * 86400)
    # Env var with the key that signs HTML form tokens (CSRF); unset: one kept in the database.
    form_secret_env: str = ""
    # DKIM signing (needs the `dkim` extra): env var with the PEM private key, the selector,
    # and the signing domain (empty: the From address's domain).
    dkim_key_env: str = ""
    dkim_selector: str = ""
    dkim_domain: str = ""


class Webhook(_Section):
    """A webhook subscriber: Statuspage-style JSON, signed with HMAC-SHA256."""

    id: str
    url: str
    # Env var holding the signing secret (or NAME_FILE).
    secret_env: str
    # Empty: every component.
    components: list[str] = []


Monitor = HttpMonitor | TcpMonitor | TlsMonitor | DnsMonitor | PushMonitor
MONITOR_KINDS = ("http", "tcp", "tls", "dns", "push")


class Config(_Section, dict=True):
    site: Site = Site()
    storage: Storage = Storage()
    cluster: Cluster = Cluster()
    defaults: Defaults = Defaults()
    probing: Probing = Probing()
    locations: list[Location] = []
    metrics: MetricsSettings = MetricsSettings()
    groups: list[Group] = []
    components: list[Component] = []
    monitors: list[Monitor] = []
    incidents: Incidents = Incidents()
    # Empty: the premium contract's table (S1 20 min then every 30 min, S2 90 min, S3 6 h, S4 24 h).
    severities: list[SeverityLevel] = []
    sla: list[SlaPolicy] = []
    customers: list[Customer] = []
    maintenance: list[Maintenance] = []
    email: EmailSettings = EmailSettings()
    webhooks: list[Webhook] = []

    @cached_property
    def component_names(self) -> dict[str, str]:
        """Component id -> display name (shared: read it, never change it)."""
        return {c.id: c.name for c in self.components}


def probed_from(config: Config, monitor: Monitor) -> list[str]:
    """Where `monitor` is probed from: its own `locations`, else [probing] locations."""
    return config.probing.locations if monitor.locations is None else monitor.locations
