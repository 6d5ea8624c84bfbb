"""The dashboard charts' geometry: bars proportional to their values in whole pixels, the
tallest filling the plot, a line on its own scale with gaps where a value is undefined."""

from __future__ import annotations

from decimal import Decimal

from o2c.web.charts import chart


def test_the_tallest_bar_fills_the_plot_and_the_others_are_proportional() -> None:
    drawn = chart(["a", "b", "c"], [Decimal("100"), Decimal("50"), Decimal("0")],
                  width=300, height=220, top=20, bottom=20)
    span = drawn.base - drawn.top
    assert [b.height for b in drawn.bars] == [span, span // 2, 0]
    assert all(b.y + b.height == drawn.base for b in drawn.bars)
    assert [b.x for b in drawn.bars] == [13, 113, 213]  # slots of 100 px, 12.5 px margin


def test_an_undefined_dso_leaves_a_gap_in_the_line() -> None:
    drawn = chart(["a", "b", "c"], [Decimal(1)] * 3, [Decimal("30"), None, Decimal("60")],
                  width=300)
    assert drawn.line_max == Decimal("60")
    assert drawn.polyline == f"50,{drawn.base - (drawn.base - drawn.top) // 2} 250,{drawn.top}"


def test_nothing_to_draw_gives_flat_bars() -> None:
    drawn = chart(["a", "b"], [Decimal(0), Decimal(0)])
    assert [b.height for b in drawn.bars] == [0, 0] and drawn.polyline == ""
