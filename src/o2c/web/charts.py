"""Geometry of the dashboard's server-side SVG charts: bars and a line scaled into a fixed
box, in whole pixels computed with exact decimals. Templates draw them; no JS library."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.dates import format_date

from o2c.web.i18n import Formatter


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    value: Decimal
    label: str


@dataclass(frozen=True)
class Point:
    x: int
    y: int
    value: Decimal | None
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    top: int  # the plot area's top edge
    base: int  # the plot area's bottom edge (the zero line)
    bars: list[Bar]
    line: list[Point]  # empty when the chart has no line
    bar_max: Decimal
    line_max: Decimal

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.line if p.value is not None)


def _px(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _scale(value: Decimal, top: Decimal, span: int) -> int:
    return _px(value * span / top) if top > 0 else 0


def chart(labels: list[str], bars: list[Decimal], line: list[Decimal | None] | None = None,
          width: int = 640, height: int = 220, top: int = 16, bottom: int = 28) -> Chart:
    """Bars (one per label) and optionally a line on its own scale, both from zero; negative
    bars are drawn as zero high (receivables and cash are not negative in practice)."""
    count = max(len(labels), 1)
    base = height - bottom
    span = base - top
    slot = Decimal(width) / count
    bar_max = max((b for b in bars), default=Decimal(0))
    shapes = []
    for i, (label, value) in enumerate(zip(labels, bars, strict=True)):
        h = max(_scale(value, bar_max, span), 0)
        x = _px(slot * i + slot / 8)
        shapes.append(Bar(x=x, y=base - h, width=max(_px(slot * 3 / 4), 1), height=h,
                          value=value, label=label))
    points: list[Point] = []
    line_max = Decimal(0)
    if line is not None:
        line_max = max((v for v in line if v is not None), default=Decimal(0))
        for i, (label, maybe) in enumerate(zip(labels, line, strict=True)):
            y = base - _scale(maybe, line_max, span) if maybe is not None else base
            points.append(Point(x=_px(slot * i + slot / 2), y=y, value=maybe, label=label))
    return Chart(width=width, height=height, top=top, base=base, bars=shapes, line=points,
                 bar_max=bar_max, line_max=line_max)


def trend_charts(fmt: Formatter, trends: dict[str, Any]) -> dict[str, Chart]:
    """The dashboard's two charts: receivables (bars) and DSO (line) at each month's end, and
    cash received per week."""
    def label(day: date, pattern: str) -> str:
        return str(format_date(day, pattern, locale=fmt.locale))

    months = trends["months"]
    weeks = trends["weeks"]
    return {
        "receivables": chart([label(m["month"], "LLL yy") for m in months],
                             [m["receivables"] for m in months],
                             [m["dso_days"] for m in months]),
        "cash": chart([label(w["week"], "d MMM") for w in weeks],
                      [w["cash_in"] for w in weeks]),
    }
