"""
Server-rendered SVG charts. No JavaScript and no CDN: the page must draw on the
mine's offline network and on paper. Every piece of text goes through
format_html, so names and labels are escaped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 28


@dataclass(frozen=True)
class ScorePoint:
    """One scored attempt: its date, the score as a share of full marks, and what it was."""

    on: dt.date
    percent: float
    kind: str  # "theory" or "practical"
    label: str
    passed: bool
    pass_percent: float


SERIES = {
    # colour, and a marker shape so the series differ in black and white too
    "theory": ("#0b5cad", "circle"),
    "practical": ("#8a5300", "square"),
}


def _x(on: dt.date, first: dt.date, last: dt.date) -> float:
    span = (last - first).days or 1
    return LEFT + (on - first).days / span * (WIDTH - LEFT - RIGHT)


def _y(percent: float) -> float:
    return TOP + (100 - max(0.0, min(100.0, percent))) / 100 * (HEIGHT - TOP - BOTTOM)


def _marker(shape: str, x: float, y: float, colour: str, passed: bool, title: str) -> SafeString:
    fill = colour if passed else "#ffffff"
    if shape == "square":
        return format_html(
            '<rect x="{}" y="{}" width="9" height="9" fill="{}" stroke="{}" stroke-width="2"><title>{}</title></rect>',
            f"{x - 4.5:.1f}",
            f"{y - 4.5:.1f}",
            fill,
            colour,
            title,
        )
    return format_html(
        '<circle cx="{}" cy="{}" r="5" fill="{}" stroke="{}" stroke-width="2"><title>{}</title></circle>',
        f"{x:.1f}",
        f"{y:.1f}",
        fill,
        colour,
        title,
    )


def score_chart(points: list[ScorePoint], *, title: str, description: str) -> SafeString:
    """Return an accessible SVG line chart of scores over time (percent of full marks)."""
    if not points:
        return mark_safe("")
    points = sorted(points, key=lambda p: p.on)
    first, last = points[0].on, points[-1].on
    if first == last:
        first, last = first - dt.timedelta(days=30), last + dt.timedelta(days=30)

    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#c9d1d9" stroke-width="1"/>'
        '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#4a5560">{}</text>',
        (
            (LEFT, f"{_y(p):.1f}", WIDTH - RIGHT, f"{_y(p):.1f}", LEFT - 6, f"{_y(p) + 4:.1f}", p)
            for p in (0, 20, 40, 60, 80, 100)
        ),
    )
    # Pass marks differ by assessment; draw the most common one as a dashed line.
    pass_marks = [p.pass_percent for p in points]
    common_pass = max(set(pass_marks), key=pass_marks.count)
    pass_line = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#a4161a" stroke-width="1.5" stroke-dasharray="6 4"/>'
        '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#a4161a">{}</text>',
        LEFT,
        f"{_y(common_pass):.1f}",
        WIDTH - RIGHT,
        f"{_y(common_pass):.1f}",
        WIDTH - RIGHT,
        f"{_y(common_pass) - 4:.1f}",
        _("pass %(mark)s") % {"mark": f"{common_pass:g}"},
    )
    axis = format_html(
        '<text x="{}" y="{}" font-size="11" fill="#4a5560">{}</text>'
        '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#4a5560">{}</text>',
        LEFT,
        HEIGHT - 8,
        points[0].on.isoformat(),
        WIDTH - RIGHT,
        HEIGHT - 8,
        points[-1].on.isoformat(),
    )
    series = []
    for kind, (colour, shape) in SERIES.items():
        mine = [p for p in points if p.kind == kind]
        if not mine:
            continue
        coords = " ".join(f"{_x(p.on, first, last):.1f},{_y(p.percent):.1f}" for p in mine)
        series.append(format_html('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>', coords, colour))
        for p in mine:
            series.append(
                _marker(
                    shape,
                    _x(p.on, first, last),
                    _y(p.percent),
                    colour,
                    p.passed,
                    f"{p.on.isoformat()} {p.label}: {p.percent:g}",
                )
            )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" aria-labelledby="{} {}">'
        '<title id="{}">{}</title><desc id="{}">{}</desc>{}{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        "score-chart-title",
        "score-chart-desc",
        "score-chart-title",
        title,
        "score-chart-desc",
        description,
        grid,
        pass_line,
        axis,
        mark_safe("".join(series)),
    )


def percent_of(score: Decimal, full_marks: Decimal) -> float:
    """Return a score as a percentage of full marks, rounded to one decimal."""
    if not full_marks:
        return 0.0
    return round(float(score) / float(full_marks) * 100, 1)
