"""Config: parsed once into frozen, typed objects (see model.py) by loader.py."""

from statuswatch.config.durations import Duration, format_duration, parse_duration
from statuswatch.config.loader import ConfigError, load_config, parse_config
from statuswatch.config.model import (
    Component,
    Config,
    DnsMonitor,
    Group,
    HttpMonitor,
    Monitor,
    PushMonitor,
    TcpMonitor,
    TlsMonitor,
)
from statuswatch.config.secrets import read_secret
from statuswatch.config.status_codes import parse_status_range

__all__ = [
    "Component",
    "Config",
    "ConfigError",
    "DnsMonitor",
    "Duration",
    "Group",
    "HttpMonitor",
    "Monitor",
    "PushMonitor",
    "TcpMonitor",
    "TlsMonitor",
    "format_duration",
    "load_config",
    "parse_config",
    "parse_duration",
    "parse_status_range",
    "read_secret",
]
