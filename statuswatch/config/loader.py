"""Parse config.toml once into frozen objects; every mistake names its key path."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfoNotFoundError

import msgspec

from statuswatch.config.csp import check_frame_ancestors
from statuswatch.config.durations import duration_hook, format_duration
from statuswatch.config.model import (
    Config,
    HttpMonitor,
    Monitor,
    PushMonitor,
    TcpMonitor,
    TlsMonitor,
)
from statuswatch.config.notify_checks import check_notify_sections
from statuswatch.config.sla_checks import check_incident_sections, check_sla_sections
from statuswatch.config.status_codes import parse_status_range
from statuswatch.config.text_checks import check_texts
from statuswatch.validation import describe

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class ConfigError(Exception):
    """One or more config mistakes, each as "key.path: what is wrong"."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_config(path: str | Path) -> Config:
    """Read, decode and validate a config file; raise ConfigError listing what is wrong."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return parse_config(raw, base_dir=path.parent)


def parse_config(raw: dict, *, base_dir: Path) -> Config:
    """Decode a TOML document (as a dict) into a resolved, validated Config."""
    try:
        config = msgspec.convert(raw, Config, dec_hook=duration_hook)
    except msgspec.ValidationError as exc:
        raise ConfigError([describe(exc)]) from None
    problems = list(_validate(config, base_dir))
    if problems:
        raise ConfigError(problems)
    return _resolve(config, base_dir)


def _validate(config: Config, base_dir: Path) -> Iterator[str]:
    yield from _check_site(config)
    yield from _check_positive(config)
    yield from _check_ids("groups", [g.id for g in config.groups])
    yield from _check_ids("components", [c.id for c in config.components])
    yield from _check_ids("monitors", [m.id for m in config.monitors])
    groups = {g.id for g in config.groups}
    for i, comp in enumerate(config.components):
        if comp.group is not None and comp.group not in groups:
            yield f"components[{i}].group: unknown group {comp.group!r}"
    components = {c.id for c in config.components}
    yield from _check_ids("sla", [s.id for s in config.sla])
    yield from _check_ids("customers", [c.id for c in config.customers])
    yield from _check_ids("maintenance", [m.id for m in config.maintenance])
    sla_ids = {s.id for s in config.sla}
    yield from check_sla_sections(config, {"components": components, "sla": sla_ids})
    severity_ids = [s.id for s in config.severities]  # "S1", "C2": conventional upper case
    for i, ident in enumerate(severity_ids):
        if ident in severity_ids[:i]:
            yield f"severities[{i}].id: duplicate id {ident!r}"
    yield from check_incident_sections(config)
    yield from check_texts(config)
    yield from check_notify_sections(config, components, base_dir)
    for i, mon in enumerate(config.monitors):
        where = f"monitors[{i}]"
        if mon.component not in components:
            yield f"{where}.component: unknown component {mon.component!r}"
        yield from _check_monitor(where, mon, config, base_dir)


def _check_site(config: Config) -> Iterator[str]:
    try:
        config.site.tz  # noqa: B018 - derives it once, for the resolved config too
    except (ZoneInfoNotFoundError, ValueError):
        yield f"site.timezone: unknown timezone {config.site.timezone!r}"
    if _bad_url(config.site.base_url):
        yield f"site.base_url: must be an http:// or https:// URL, got {config.site.base_url!r}"
    yield from check_frame_ancestors("site.frame_ancestors", config.site.frame_ancestors)
    if config.site.max_connections < 0:
        yield "site.max_connections: must not be negative (0: derived from the descriptor limit)"
    try:
        parse_listen(config.site.listen)
    except ValueError as exc:
        yield f"site.listen: {exc}"
    if config.metrics.listen:
        try:
            parse_listen(config.metrics.listen)
        except ValueError as exc:
            yield f"metrics.listen: {exc}"
        if config.metrics.listen == config.site.listen:
            yield "metrics.listen: must differ from site.listen (empty: serve /metrics there)"


def _check_positive(config: Config) -> Iterator[str]:
    checks = [
        ("defaults.interval", config.defaults.interval),
        ("defaults.timeout", config.defaults.timeout),
        ("defaults.confirm_failures", config.defaults.confirm_failures),
        ("defaults.confirm_recoveries", config.defaults.confirm_recoveries),
        ("probing.max_in_flight", config.probing.max_in_flight),
        ("site.request_head_timeout", config.site.request_head_timeout),
        ("probing.max_lateness", config.probing.max_lateness),
        ("storage.raw_retention", config.storage.raw_retention),
        ("storage.rollup_retention", config.storage.rollup_retention),
        ("metrics.sla_refresh", config.metrics.sla_refresh),
        ("email.retention", config.email.retention),
    ]
    for key, value in checks:
        if value <= 0:
            yield f"{key}: must be greater than 0"
    if config.defaults.timeout >= config.defaults.interval:
        interval = format_duration(config.defaults.interval)
        yield f"defaults.timeout: must be shorter than interval ({interval})"


def _check_ids(section: str, ids: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if not ID_PATTERN.match(ident):
            yield (
                f"{section}[{i}].id: {ident!r} must be lowercase letters, digits, '-', '_' or '.'"
                " (at most 64)"
            )
        if ident in seen:
            yield f"{section}[{i}].id: duplicate id {ident!r}"
        seen.add(ident)


def _check_monitor(where: str, mon: Monitor, config: Config, base_dir: Path) -> Iterator[str]:
    interval = mon.interval if mon.interval is not None else config.defaults.interval
    timeout = mon.timeout if mon.timeout is not None else config.defaults.timeout
    if interval <= 0:
        yield f"{where}.interval: must be greater than 0"
    elif timeout <= 0:
        yield f"{where}.timeout: must be greater than 0"
    elif timeout >= interval and not isinstance(mon, PushMonitor):
        yield f"{where}.timeout: must be shorter than interval ({format_duration(interval)})"
    for key in ("confirm_failures", "confirm_recoveries"):
        value = getattr(mon, key)
        if value is not None and value < 1:
            yield f"{where}.{key}: must be at least 1"
    if isinstance(mon, HttpMonitor):
        yield from _check_http(where, mon)
    if isinstance(mon, TcpMonitor | TlsMonitor) and not 0 < mon.port < 65536:
        yield f"{where}.port: must be between 1 and 65535"
    if isinstance(mon, TlsMonitor) and mon.warn_days < 0:
        yield f"{where}.warn_days: must not be negative"
    ca_file = getattr(mon, "ca_file", None)
    if ca_file is not None and not (base_dir / ca_file).is_file():
        yield f"{where}.ca_file: no such file {ca_file!r}"


def _check_http(where: str, mon: HttpMonitor) -> Iterator[str]:
    if _bad_url(mon.url):
        yield f"{where}.url: must be an http:// or https:// URL with a host, got {mon.url!r}"
    for j, spec in enumerate(mon.expect_status):
        try:
            parse_status_range(spec)
        except ValueError as exc:
            yield f"{where}.expect_status[{j}]: {exc}"
    if mon.body_regex is not None:
        try:
            re.compile(mon.body_regex)
        except re.error as exc:
            yield f"{where}.body_regex: not a valid regular expression: {exc}"
    if mon.json_equals is not None and mon.json_field is None:
        yield f"{where}.json_equals: needs json_field"
    if mon.max_redirects < 0:
        yield f"{where}.max_redirects: must not be negative"
    if mon.max_body_bytes <= 0:
        yield f"{where}.max_body_bytes: must be greater than 0"
    if mon.degraded_after is not None and mon.degraded_after <= 0:
        yield f"{where}.degraded_after: must be greater than 0"


def _bad_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return True
    return parts.scheme not in ("http", "https") or not parts.hostname


def parse_listen(listen: str) -> tuple[str, int]:
    """Split "host:port" (or "[::1]:port") into its parts."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"must be host:port, got {listen!r}")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - an explicit ":8080" means all


def _resolve(config: Config, base_dir: Path) -> Config:
    """Fill monitor defaults and make file paths absolute, so nothing downstream guesses."""
    d = config.defaults
    monitors = []
    for mon in config.monitors:
        changes: dict[str, object] = {
            "interval": mon.interval if mon.interval is not None else d.interval,
            "timeout": mon.timeout if mon.timeout is not None else d.timeout,
            "confirm_failures": mon.confirm_failures or d.confirm_failures,
            "confirm_recoveries": mon.confirm_recoveries or d.confirm_recoveries,
            "name": mon.name or mon.id,
        }
        if getattr(mon, "ca_file", None) is not None:
            changes["ca_file"] = str((base_dir / mon.ca_file).resolve())  # type: ignore[union-attr]
        monitors.append(msgspec.structs.replace(mon, **changes))
    storage = msgspec.structs.replace(
        config.storage, path=str((base_dir / config.storage.path).resolve())
    )
    email = config.email
    if email.ca_file is not None:
        email = msgspec.structs.replace(email, ca_file=str((base_dir / email.ca_file).resolve()))
    resolved = msgspec.structs.replace(config, monitors=monitors, storage=storage, email=email)
    _derive(resolved)
    return resolved


def _derive(config: Config) -> None:
    """Compute the derived values (model.py's cached properties) now, not in a probe or request."""
    _ = config.site.tz, config.site.base, config.component_names
    for mon in config.monitors:
        if isinstance(mon, HttpMonitor):
            _ = mon.request_url, mon.status_ranges
