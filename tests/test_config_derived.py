"""Values derived from the config: computed once, when the config is resolved."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import msgspec
import pytest

from statuswatch.config import Component, Config, HttpMonitor
from statuswatch.config.model import Site
from tests.helpers.config import make_config

HTTP = {"id": "shop", "kind": "http", "component": "api", "url": "https://shop.example/health"}


@pytest.mark.parametrize(
    ("base_url", "base"),
    [
        ("https://status.example.com/", "https://status.example.com"),
        ("https://status.example.com", "https://status.example.com"),
        ("https://example.com/status/", "https://example.com/status"),
    ],
)
def test_base_is_the_base_url_without_its_trailing_slash(tmp_path, base_url, base):
    config = make_config(tmp_path, [], site={"base_url": base_url})
    assert config.site.base == base
    assert config.site.base_url == base_url  # the page's own url field keeps what was written


def test_timezone_object_is_made_once_and_reused(tmp_path):
    config = make_config(tmp_path, [], site={"timezone": "Europe/Paris"})
    assert "tz" in config.site.__dict__  # filled when the config was resolved
    tz = config.site.tz
    assert isinstance(tz, ZoneInfo) and tz.key == "Europe/Paris"
    assert config.site.tz is tz


def test_component_names_are_built_once(tmp_path):
    config = make_config(tmp_path, [])
    names = config.component_names
    assert names == {"api": "Storefront API", "checkout": "Checkout <script>"}
    assert config.component_names is names


def test_status_ranges_and_url_are_parsed_when_the_config_loads(tmp_path):
    config = make_config(tmp_path, [{**HTTP, "expect_status": ["200-299", 301, " 404 "]}])
    mon = config.monitors[0]
    assert isinstance(mon, HttpMonitor)
    assert {"status_ranges", "request_url"} <= mon.__dict__.keys()
    assert mon.status_ranges == ((200, 299), (301, 301), (404, 404))
    assert mon.request_url.host == "shop.example" and mon.request_url.path == "/health"
    assert mon.expect_status == ["200-299", 301, " 404 "]  # the message quotes them as written


def test_objects_built_without_the_loader_derive_on_first_use():
    config = Config(site=Site(base_url="http://x/"), components=[Component(id="a", name="A")])
    assert config.component_names == {"a": "A"}
    assert config.site.base == "http://x"
    mon = HttpMonitor(id="m", component="a", url="http://x/", expect_status=[204])
    assert mon.status_ranges == ((204, 204),)


def test_a_replaced_object_derives_its_own_values(tmp_path):
    config = make_config(tmp_path, [], site={"base_url": "http://a/", "timezone": "UTC"})
    site = msgspec.structs.replace(config.site, base_url="http://b/", timezone="Asia/Tokyo")
    assert (site.base, site.tz.key) == ("http://b", "Asia/Tokyo")
    assert (config.site.base, config.site.tz.key) == ("http://a", "UTC")


def test_derived_values_are_not_config(tmp_path):
    config = make_config(tmp_path, [HTTP])
    with pytest.raises(AttributeError):
        config.site.base = "http://elsewhere"  # type: ignore[misc]
    fields = msgspec.structs.asdict
    assert "component_names" not in fields(config)
    assert not {"tz", "base"} & fields(config.site).keys()
    assert "status_ranges" not in fields(config.monitors[0])
