"""[cluster]: a node's name, the URL the other nodes reach it at, the shared token (env)."""

from __future__ import annotations

import socket
from pathlib import Path

from statuswatch.cluster.settings import advertise_url, cluster_token, node_name
from tests.helpers.config import make_config


def test_defaults_are_the_hostname_and_the_sites_base_url(tmp_path: Path) -> None:
    config = make_config(tmp_path, [])
    assert config.cluster.lease_ttl == 15.0
    assert node_name(config) == socket.gethostname()
    assert advertise_url(config) == config.site.base_url.rstrip("/")


def test_each_node_says_who_it_is_and_where_it_is_reached(tmp_path: Path) -> None:
    cluster = {"node": "node-a", "lease_ttl": "6s", "advertise": "http://10.0.0.5:8080/"}
    config = make_config(tmp_path, [], cluster=cluster)
    assert (node_name(config), config.cluster.lease_ttl) == ("node-a", 6.0)
    assert advertise_url(config) == "http://10.0.0.5:8080"


def test_the_token_comes_from_the_environment_or_its_file(tmp_path: Path) -> None:
    assert cluster_token({}) is None
    assert cluster_token({"STATUSWATCH_CLUSTER_TOKEN": "s3cret"}) == "s3cret"
    secret = tmp_path / "token"
    secret.write_text("from-file\n")
    assert cluster_token({"STATUSWATCH_CLUSTER_TOKEN_FILE": str(secret)}) == "from-file"
