"""Parse config.toml once into frozen objects; every mistake names its key path."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfoNotFoundError

import msgspec

from statuswatch.config.bounds import check_numbers
from statuswatch.config.csp import check_frame_ancestors
from statuswatch.config.durations import duration_hook, format_duration
from statuswatch.config.location_checks import check_locations, monitor_locations, monitor_quorum
from statuswatch.config.model import (
    Config,
    HttpMonitor,
    Monitor,
    PushMonitor,
)
from statuswatch.config.notify_checks import check_notify_sections
from statuswatch.config.sla_checks import check_incident_sections, check_sla_sections
from statuswatch.config.status_codes import parse_status_range
from statuswatch.config.storage_checks import check_storage
from statuswatch.config.text_checks import check_texts
from statuswatch.validation import describe

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class ConfigError(Exception):
    """One or more config mistakes, each as "key.path: what is wrong"."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# A config file is text a person wrote: far below this. A bigger one (or /dev/zero) is a mistake.
MAX_FILE_BYTES = 16 * 1024 * 1024


def load_config(path: str | Path) -> Config:
    """Read, decode and validate a config file; raise ConfigError listing what is wrong."""
    path = Path(path)
    raw = _read_toml(path)
    problems = []
    try:
        config = parse_config(raw, base_dir=path.parent)
    except ConfigError as exc:
        problems = exc.problems
    if not raw.get("components"):
        # An empty file would start a status page with nothing on it: surely the wrong file.
        problems.append("components: none configured: a status page needs at least one")
    if problems:
        raise ConfigError(problems)
    return config


def _read_toml(path: Path) -> dict:
    """The file's TOML document; every way it can be unreadable is a ConfigError naming it."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError([f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB: not a config"])
    try:
        text = data.decode("utf-8-sig")  # a leading BOM (some Windows editors) is no content
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [f"{path}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})"]
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise ConfigError([f"{path}: not valid TOML: arrays or tables nested too deeply"]) from None


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


def config_warnings(config: Config) -> list[str]:
    """What is valid but probably not meant, each naming its key: components nothing checks."""
    watched = {m.component for m in config.monitors}
    unwatched = [c.id for c in config.components if c.id not in watched]
    if not unwatched:
        return []
    return [
        f"components: no monitor checks {', '.join(unwatched)}: shown as no data yet, and only"
        " incidents and maintenance change it"
    ]


def _validate(config: Config, base_dir: Path) -> Iterator[str]:
    yield from check_numbers(config)
    yield from _check_site(config)
    yield from _check_positive(config)
    yield from check_storage(config)
    yield from _check_ids("groups", [g.id for g in config.groups])
    yield from _check_ids("components", [c.id for c in config.components])
    yield from _check_ids("monitors", [m.id for m in config.monitors])
    yield from _check_ids("locations", [loc.id for loc in config.locations])
    yield from check_locations(config)
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
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long
        yield f"site.timezone: unknown timezone {config.site.timezone!r}"
    if _bad_url(config.site.base_url):
        yield f"site.base_url: must be an http:// or https:// URL, got {config.site.base_url!r}"
    yield from check_frame_ancestors("site.frame_ancestors", config.site.frame_ancestors)
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
    if isinstance(mon, HttpMonitor):
        yield from _check_http(where, mon)
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
            "locations": monitor_locations(mon, config),
            "quorum": monitor_quorum(mon, config),
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
