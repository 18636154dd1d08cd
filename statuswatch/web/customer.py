"""A customer's private report: /customers/<token> (HTML, or ?format=csv)."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

from aiohttp import web

from statuswatch.auth.tokens import find_owner
from statuswatch.config.model import Customer
from statuswatch.site.gaps import reason_words
from statuswatch.site.locations import location_names
from statuswatch.site.stamps import maybe_stamp, stamp
from statuswatch.site.view import ComponentView, load_site_source
from statuswatch.sla.display import duration_text, truncate_percent
from statuswatch.sla.periods import iso_z
from statuswatch.sla.report import CreditLine, GapLine, OutageLine, customer_history
from statuswatch.sla.report_format import POLICY_EXPLAINED, POLICY_WORDS, as_csv, money
from statuswatch.status.component import ComponentStatus
from statuswatch.web.keys import BOARD, CLOCK, CONFIG, STORE, TEMPLATES
from statuswatch.web.not_found import html_404
from statuswatch.web.security import refuse_if_limited, too_many

# The URL is the credential: keep it out of caches, indexes and other sites' logs.
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
MAX_OUTAGES_WITH_EVIDENCE = 100


async def customer_report(request: web.Request) -> web.Response:
    """GET /customers/{token}: 12 months of availability, outages with evidence, credits."""
    config, store = request.app[CONFIG], request.app[STORE]
    refuse_if_limited(request, "report")
    owner = find_owner(await store.report_tokens(), request.match_info["token"])
    customer = next((c for c in config.customers if c.id == owner), None)
    if customer is None:
        if (limited := too_many(request, "report")) is not None:
            raise limited
        # The same 404 page as any unknown URL (html_404), and never cached.
        raise web.HTTPNotFound(headers=PRIVATE)
    now = int(request.app[CLOCK].time())
    lines = await customer_history(store, config, customer, now)
    components = await _component_views(request.app, customer, now)
    if request.query.get("format") == "csv":
        return web.Response(
            text=as_csv(lines, now),
            content_type="text/csv",
            headers={
                **PRIVATE,
                "Content-Disposition": f'attachment; filename="{customer.id}-sla.csv"',
            },
        )
    html = (
        request.app[TEMPLATES]
        .get_template("customer.html")
        .render(
            site=config.site,
            customer=customer,
            plan=lines[0].plan,
            policy=POLICY_EXPLAINED[lines[0].plan.unmonitored_policy],
            rows=[_row(line, now, config.site.tz) for line in lines],
            outages=await _outages_with_evidence(
                store, lines, config.site.tz, location_names(config)
            ),
            regional_is_downtime=lines[0].regional_is_downtime,
            any_regional=any(line.regional for line in lines),
            components=components,
            services=[(c.name, c.targets) for c in components],
            targets=[f"{t:g}" for t in config.site.targets],
            generated=stamp(now, config.site.tz),
        )
    )
    return web.Response(text=html, content_type="text/html", headers=PRIVATE)


async def _component_views(
    app: web.Application, customer: Customer, now: int
) -> list[ComponentView]:
    """The public site's bars and tables, for the components this customer's plan covers."""
    config = app[CONFIG]
    source = await load_site_source(app[STORE], config, now)
    board = app[BOARD]
    status, no_data, regional = board.status, board.no_data(), board.regional
    return [
        source.component(
            c,
            status.get(c.id, ComponentStatus.OPERATIONAL),
            c.id in no_data,
            regional.get(c.id, ()),
        )
        for c in config.components
        if c.id in customer.components
    ]


def _row(line: CreditLine, now: int, tz: ZoneInfo) -> dict:
    fig = line.figures
    return {
        "label": fig.period.label,
        "availability": truncate_percent(fig.availability),
        "coverage": truncate_percent(None if fig.coverage is None else fig.coverage * 100, 1),
        "unmonitored": duration_text(fig.unmonitored),
        "counted": POLICY_WORDS[line.plan.unmonitored_policy] if fig.unmonitored else "",
        "unexcused": duration_text(fig.unexcused),
        "excused": duration_text(fig.excused),
        "regional": duration_text(line.regional_seconds) if line.regional else "",
        "allowed": duration_text(fig.allowed),
        "met": fig.met,
        "credit_percent": f"{float(line.credit_percent):g}",
        "credit_amount": money(line.credit_amount),
        # The exact instant with its zone: a date alone reads as "during that day".
        "deadline": maybe_stamp(line.claim_deadline, tz),
        "deadline_passed": line.claim_passed(now),
    }


async def _outages_with_evidence(
    store, lines: list[CreditLine], tz: ZoneInfo, names: dict[str, str]
) -> list[dict]:
    """Each outage (newest first) with the error classes of the failing checks behind it."""
    seen, out = set(), []
    for line in lines:
        for o in reversed(line.outages):
            key = (o.monitor_id, o.start)
            if key in seen or len(out) >= MAX_OUTAGES_WITH_EVIDENCE:
                continue
            seen.add(key)
            checks = await store.checks(
                o.monitor_id, since=o.start, until=o.end + 1, failures_only=True
            )
            classes = Counter(c.error_class for c in checks)
            out.append(
                {
                    "monitor": o.monitor_id,
                    "component": o.component,
                    "start_ts": o.start,
                    "start": stamp(o.start, tz),
                    "end": None if o.ongoing else stamp(o.end, tz),  # None: ongoing
                    "duration": duration_text(o.seconds),
                    "excused": o.excused_seconds == o.seconds,
                    "partly_excused": 0 < o.excused_seconds < o.seconds,
                    "evidence": ", ".join(f"{n} × {cls}" for cls, n in classes.most_common())
                    or o.error_class,
                    "split": [_split_text(g) for g in o.split_by],
                    "regional": _regional_text(o, line, names),
                }
            )
    return sorted(out, key=lambda row: row["start_ts"], reverse=True)


def _regional_text(o: OutageLine, line: CreditLine, names: dict[str, str]) -> str:
    """Whether an outage was seen from one location only, and how the plan counts that."""
    if not o.regional_seconds:
        return ""
    counted = "counted as downtime" if line.regional_is_downtime else "not downtime"
    seen = names.get(o.location, o.location)
    part = "" if o.regional_seconds == o.seconds else f" for {duration_text(o.regional_seconds)}"
    quorum = "fewer locations than the quorum"
    return f"regional{part}: down from {seen}, {quorum} ({counted} under your plan)"


def _split_text(gap: GapLine) -> str:
    """Why one outage of the target shows as two: the gap in monitoring between them."""
    why = reason_words(gap.reason)
    return f"split by a gap in monitoring: {why} from {iso_z(gap.start)} to {iso_z(gap.end)}"


def add_routes(app: web.Application) -> None:
    app.router.add_get("/customers/{token}", html_404(customer_report))
