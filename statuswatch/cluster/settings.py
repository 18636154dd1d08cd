"""What a node is called, where the other nodes reach it, and the secret they share."""

from __future__ import annotations

import socket
from collections.abc import Mapping

from statuswatch.config import Config, read_secret

# Env var (or TOKEN_FILE) with the token the nodes send each other on forwarded requests.
TOKEN_ENV = "STATUSWATCH_CLUSTER_TOKEN"  # noqa: S105 - a variable name
# The header that carries it; compared in constant time.
TOKEN_HEADER = "X-Statuswatch-Cluster"  # noqa: S105 - a header name


def node_name(config: Config) -> str:
    """This node's name in the lease: `cluster.node`, else the hostname."""
    return config.cluster.node or socket.gethostname()


def advertise_url(config: Config) -> str:
    """The URL the other nodes reach this node's site at, without a trailing slash."""
    return (config.cluster.advertise or config.site.base_url).rstrip("/")


def cluster_token(env: Mapping[str, str]) -> str | None:
    """The nodes' shared token (None: unset, which PostgreSQL refuses at start)."""
    return read_secret(TOKEN_ENV, env)
