"""The shared chart package: geometry, accessible SVG, and the table fallback."""

import re

import pytest

from textdesk.charts import bar_chart, grouped_bar_chart, nice_ticks


def money(value: float) -> str:
    return f"${value:,.2f}"


def test_nice_ticks_reach_the_top_in_round_steps():
    assert nice_ticks(0) == [0.0, 1.0]
    assert nice_ticks(100) == [0, 25, 50, 75, 100]
    assert nice_ticks(101) == [0, 50, 100, 150]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(0.3)[-1] >= 0.3


def test_bar_heights_are_proportional_and_stand_on_the_axis():
    chart = bar_chart(title="Open by age", labels=["a", "b", "c"], values=[100, 50, 0])
    full, half, empty = chart.bars
    assert full.height == pytest.approx(2 * half.height, abs=0.2)
    assert empty.height == 0
    for bar in chart.bars:
        assert bar.y + bar.height == pytest.approx(chart.plot_bottom, abs=0.2)
    # The highest tick is the top of the plot, and the tallest bar reaches it.
    assert full.y == pytest.approx(chart.plot_top, abs=0.2)


def test_grouped_bars_sit_side_by_side_inside_their_band():
    chart = grouped_bar_chart(
        title="Requested and collected",
        labels=["w1", "w2"],
        series=[("Requested", [10, 20]), ("Collected", [5, 20])],
    )
    assert [b.series for b in chart.bars] == [0, 1, 0, 1]
    first, second = chart.bars[0], chart.bars[1]
    assert second.x >= first.x + first.width
    band = (chart.plot_right - chart.plot_left) / 2
    assert chart.bars[2].x >= chart.plot_left + band
    assert chart.bars[1].label == "w1 · Collected: 5"
    assert chart.has_legend


def test_rendered_svg_is_accessible_and_has_the_numbers_as_a_table():
    chart = bar_chart(
        title="Open amount by age",
        description="Most of the open amount is under a week old.",
        labels=["0–7 days", "8–30 days"],
        values=[1234.5, 10],
        value_format=money,
        x_label="Age",
        y_label="Open amount",
    )
    html = chart.render()
    assert re.search(
        r'<svg[^>]*role="img"[^>]*aria-labelledby="chart-open-amount-by-age-title '
        r'chart-open-amount-by-age-desc"',
        html,
    )
    assert '<title id="chart-open-amount-by-age-title">Open amount by age</title>' in html
    assert '<desc id="chart-open-amount-by-age-desc">Most of the open amount' in html
    assert ">Age</text>" in html and ">Open amount</text>" in html
    table = html[html.index("<table") :]
    assert '<th scope="row">0–7 days</th><td class="num">$1,234.50</td>' in table
    assert '<th scope="row">8–30 days</th><td class="num">$10.00</td>' in table
    # Coordinates are never localised (no "1,5" or thousands separators in attributes).
    for value in re.findall(r' (?:x|y|width|height)="([^"]*)"', html):
        float(value)


def test_labels_and_titles_are_escaped():
    chart = bar_chart(title="<b>x</b>", labels=["<script>"], values=[1])
    html = chart.render()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html


def test_default_description_names_totals_and_the_highest_bar():
    chart = bar_chart(title="t", labels=["Mon", "Tue"], values=[3, 9], series_name="Texts")
    assert chart.description == "2 categories, Mon to Tue. Texts: total 12, highest 9 (Tue)."
    assert bar_chart(title="t", labels=[], values=[]).description == "No data."


def test_crowded_category_labels_are_thinned_but_the_table_keeps_them_all():
    labels = [f"Week of Nov {i:02d}" for i in range(24)]
    chart = bar_chart(title="t", labels=labels, values=list(range(24)))
    assert 1 < len(chart.x_labels) < 24
    assert len(chart.table_rows) == 24
    assert not chart.show_values  # 24 bars: values only in the tooltips and the table


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        bar_chart(title="t", labels=["a"], values=[-1])
    with pytest.raises(ValueError):
        bar_chart(title="t", labels=["a", "b"], values=[1])
    with pytest.raises(ValueError):
        grouped_bar_chart(title="t", labels=["a"], series=[])
