"""Status and uptime badges in the shields.io "flat" style, and shields' endpoint JSON. Pure.

Labels are component names from config: they go into the SVG only through ElementTree, which
escapes them. The uptime badge is measured availability (site.measured): under 100 % coverage
its message carries the coverage, under one hour of evidence it says "no data"; a component
never checked has the status badge "no data", never "operational". Widths are estimated from
Verdana 11px advance widths (what shields measures with), so a badge fits its text without a
font on the server.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from statuswatch.site.measured import SPANS, measured
from statuswatch.sla.availability import Figures
from statuswatch.status.component import ComponentStatus

COLORS = {
    "brightgreen": "#4c1",
    "green": "#97ca00",
    "yellowgreen": "#a4a61d",
    "yellow": "#dfb317",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "blue": "#007ec6",
    "lightgrey": "#9f9f9f",
}
STATUS_BADGE = {
    ComponentStatus.OPERATIONAL: ("operational", "brightgreen"),
    ComponentStatus.DEGRADED: ("degraded performance", "yellow"),
    ComponentStatus.PARTIAL: ("partial outage", "orange"),
    ComponentStatus.MAJOR: ("major outage", "red"),
    ComponentStatus.MAINTENANCE: ("under maintenance", "blue"),
}
# Lowest availability (percent) for each colour, best first; below the last: red.
UPTIME_COLORS = (
    (Fraction("99.99"), "brightgreen"),
    (Fraction("99.9"), "green"),
    (Fraction("99.8"), "yellowgreen"),
    (Fraction(99), "yellow"),
    (Fraction(95), "orange"),
)
UPTIME_WINDOWS = ("24h", "7d", "30d", "90d")
NO_DATA = ("no data", "lightgrey")

# Verdana 11px advance widths in px (rounded to tenths); anything else counts as DEFAULT_WIDTH.
_WIDTHS = {
    **dict.fromkeys("fijlrt.,:;!|'()[]` ", 4.0),
    **dict.fromkeys("Iscz-/", 5.5),
    **dict.fromkeys("abdeghknopquvxy0123456789?$#_+=<>~*^", 7.0),
    **dict.fromkeys("ABCDEFGHJKLNOPQRSTUVXYZ&", 7.9),
    **dict.fromkeys("mwMW%@", 10.7),
}
DEFAULT_WIDTH = 7.6  # wide enough for most accented letters and symbols
PADDING = 10  # 5 px on each side of each half, as shields draws it


def text_width(text: str) -> float:
    """The estimated width of `text` in Verdana 11px."""
    return sum(_WIDTHS.get(ch, DEFAULT_WIDTH) for ch in text)


def status_badge(status: ComponentStatus, no_data: bool = False) -> tuple[str, str]:
    """(message, colour name) for a component status; `no_data` before its first check."""
    if no_data and status is ComponentStatus.OPERATIONAL:
        return NO_DATA
    return STATUS_BADGE[status]


def uptime_badge(fig: Figures, window: str) -> tuple[str, str]:
    """(message, colour name) for a window's measured availability, truncated per SLA.md:
    "99.950%", "99.950% (coverage 62%)" under full coverage, or "no data"."""
    shown = measured(fig, SPANS[window])
    if shown.no_data or fig.availability is None:
        return NO_DATA
    availability: Fraction = fig.availability
    color = next((c for floor, c in UPTIME_COLORS if availability >= floor), "red")
    message = shown.percent
    if shown.coverage is not None:
        message += f" (coverage {shown.coverage}%)"
    return message, color


def endpoint_json(label: str, message: str, color: str) -> dict[str, object]:
    """shields.io's endpoint badge schema (https://shields.io/badges/endpoint-badge)."""
    return {"schemaVersion": 1, "label": label, "message": message, "color": color}


def svg(label: str, message: str, color: str) -> bytes:
    """A flat badge: grey label on the left, coloured message on the right."""
    left = round(text_width(label) + PADDING)
    right = round(text_width(message) + PADDING)
    width = left + right
    title = f"{label}: {message}"
    root = ET.Element(
        "svg",
        xmlns="http://www.w3.org/2000/svg",
        width=str(width),
        height="20",
        role="img",
        **{"aria-label": title},
    )
    ET.SubElement(root, "title").text = title
    gradient = ET.SubElement(root, "linearGradient", id="s", x2="0", y2="100%")
    ET.SubElement(gradient, "stop", offset="0", **{"stop-color": "#bbb", "stop-opacity": ".1"})
    ET.SubElement(gradient, "stop", offset="1", **{"stop-opacity": ".1"})
    clip = ET.SubElement(root, "clipPath", id="r")
    ET.SubElement(clip, "rect", width=str(width), height="20", rx="3", fill="#fff")
    shapes = ET.SubElement(root, "g", **{"clip-path": "url(#r)"})
    ET.SubElement(shapes, "rect", width=str(left), height="20", fill="#555")
    ET.SubElement(shapes, "rect", x=str(left), width=str(right), height="20", fill=COLORS[color])
    ET.SubElement(shapes, "rect", width=str(width), height="20", fill="url(#s)")
    texts = ET.SubElement(
        root,
        "g",
        fill="#fff",
        **{
            "text-anchor": "middle",
            "font-family": "Verdana,Geneva,DejaVu Sans,sans-serif",
            "font-size": "11",
        },
    )
    for text, centre in ((label, left / 2), (message, left + right / 2)):
        x = f"{centre:g}"
        shadow = ET.SubElement(
            texts,
            "text",
            x=x,
            y="15",
            fill="#010101",
            **{"fill-opacity": ".3", "aria-hidden": "true"},
        )
        shadow.text = text
        ET.SubElement(texts, "text", x=x, y="14").text = text
    return ET.tostring(root, encoding="utf-8", xml_declaration=False)
