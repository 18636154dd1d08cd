"""Whether the pages may say they are current: in the web role, only while the monitor beats.

When the monitor role is not publishing (stopped, crashed, restarting), a web worker still
serves the last state it was told, but says "as of" that moment and that monitoring is
interrupted, instead of stamping the page with the time of the request.

When the store cannot be read (PostgreSQL away, a sick disk), a page cannot be rendered at all:
the worker serves the last good copy it has (web/render_cache.py), with the same notice put in
the place the page keeps for it (PAUSED_MARK), as of the last state it knows.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from statuswatch.roles.published import PublishedBoard
from statuswatch.site.stamps import Stamp, maybe_stamp
from statuswatch.web.keys import BOARD, CONFIG, STARTED_AT, TEMPLATES


def paused_since(app: web.Application) -> float | None:
    """The monitor's last publication when it has gone quiet (None: the page is current).

    Never published at all counts as paused too, with no time (0.0 stands for "never").
    """
    board = app.get(BOARD)
    if not isinstance(board, PublishedBoard) or not board.stale:
        return None
    return board.as_of or 0.0


# Where a page rendered as current keeps room for the notice (templates/paused_notice.html).
PAUSED_MARK = b"<!--paused-->"


def stale_copy(app: web.Application) -> Callable[[bytes, float], bytes]:
    """What a last good body becomes when it is served because its render failed: a page gets
    the notice, as of the monitor's last state (else of when the body was rendered)."""
    tz = app[CONFIG].site.tz
    template = app[TEMPLATES].get_template("paused_notice.html")

    def mark(body: bytes, rendered: float) -> bytes:
        if PAUSED_MARK not in body:  # JSON, feeds, or a page that carries the notice already
            return body
        note = {"as_of": maybe_stamp(paused_since(app) or rendered, tz)}
        notice = template.render(paused=lambda: note).encode()
        return body.replace(PAUSED_MARK, notice, 1)

    return mark


def monitor_started(app: web.Application) -> float:
    """When the monitor loaded its config: in the web role its published start (every worker
    says the same), else this process's own."""
    board = app.get(BOARD)
    if isinstance(board, PublishedBoard) and board.current is not None:
        return board.current.started
    return app[STARTED_AT]


def add_freshness(app: web.Application) -> None:
    """Template globals: `paused()` for the notice, `as_of(stamp)` for the page's own stamp."""
    tz = app[CONFIG].site.tz

    def paused() -> dict[str, Stamp | None] | None:
        since = paused_since(app)
        return None if since is None else {"as_of": maybe_stamp(since or None, tz)}

    def as_of(generated: Stamp) -> Stamp:
        since = paused_since(app)
        return generated if not since else maybe_stamp(since, tz) or generated

    env = app[TEMPLATES]
    env.globals["paused"] = paused
    env.globals["as_of"] = as_of
