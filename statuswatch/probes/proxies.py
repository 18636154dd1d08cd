"""The egress proxy for a URL, from HTTP_PROXY / HTTPS_PROXY / NO_PROXY read once at start.

The rules are urllib's (what aiohttp's trust_env applies, and close to curl's): a lowercase
variable wins over its uppercase twin, HTTP_PROXY is ignored in a CGI environment, NO_PROXY
lists hosts and domain suffixes (`*` for all), and user:password in the
proxy URL becomes its Proxy-Authorization. Only http:// proxies are used (aiohttp has no TLS to
the proxy itself); an https:// target goes through them by CONNECT. aiohttp's trust_env
re-read the environment (and ~/.netrc) in a thread for every request: a probe's worth of CPU
on an agent probing hundreds a second. Read here once, a change needs a restart, as for curl
in a shell.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.request import getproxies_environment, proxy_bypass_environment

from aiohttp import BasicAuth, hdrs
from multidict import CIMultiDict
from yarl import URL

log = logging.getLogger(__name__)

_SCHEMES = ("http", "https")
_BYPASS_CACHE = 4096  # hosts remembered; redirects may name any host, so the memory is bounded


@dataclass(frozen=True, slots=True)
class Route:
    """Where a request goes: through `proxy` (with its credentials), or direct."""

    proxy: URL | None = None
    authorization: str | None = None  # the Proxy-Authorization the proxy URL's user:pass makes

    def options(self, url: URL, headers: CIMultiDict[str]) -> dict[str, Any]:
        """aiohttp request options for `url` with `headers`: the proxy, and its credentials
        where the proxy reads them (the request itself for http://, the CONNECT for https://)."""
        if self.proxy is None:
            return {"headers": headers}
        if self.authorization is None:
            return {"headers": headers, "proxy": self.proxy}
        if url.scheme == "https":
            credentials = {hdrs.PROXY_AUTHORIZATION: self.authorization}
            return {"headers": headers, "proxy": self.proxy, "proxy_headers": credentials}
        with_credentials = headers.copy()
        with_credentials[hdrs.PROXY_AUTHORIZATION] = self.authorization
        return {"headers": with_credentials, "proxy": self.proxy}


DIRECT = Route()


class EnvProxies:
    """The proxies the environment named at start, and which hosts bypass them."""

    def __init__(self) -> None:
        self._env = getproxies_environment()
        self._routes: dict[str, Route] = {}
        for scheme in _SCHEMES:
            raw = self._env.get(scheme)
            if not raw:
                continue
            url = URL(raw if "://" in raw else f"http://{raw}")
            if url.scheme != "http":
                log.warning("%s_proxy %s: only http:// proxies are supported, ignored", scheme, url)
                continue
            auth = BasicAuth.from_url(url)
            self._routes[scheme] = Route(url.with_user(None), auth and auth.encode())
        self._bypass: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self._routes)

    def route(self, url: URL) -> Route:
        """The route for a request to `url`: its scheme's proxy unless NO_PROXY names its host."""
        route = self._routes.get(url.scheme)
        if route is None or url.host is None:
            return DIRECT
        bypass = self._bypass.get(url.host)
        if bypass is None:
            if len(self._bypass) >= _BYPASS_CACHE:
                self._bypass.clear()
            bypass = self._bypass[url.host] = bool(proxy_bypass_environment(url.host, self._env))
        return DIRECT if bypass else route
