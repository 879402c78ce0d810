"""Charts: server-side SVG bar charts, the one chart approach of the whole product.

Pure rendering: callers pass labels and numbers, and get back a small frozen dataclass holding
the geometry, which ``templates/charts/bar.html`` draws as ``<svg role="img">`` with a
``<title>``, a ``<desc>``, axis labels and a ``<table>`` of the same numbers (the fallback for
screen readers, printing and anyone who wants the figures). No JavaScript, no build step, and no
import from the domain apps: formatting a value (dollars, counts) is the caller's callable.

    chart = bar_chart(title="Open by age", labels=["0-7 days", ...], values=[120.5, ...],
                      value_format=lambda v: f"${v:,.2f}", y_label="Open amount")
    {{ chart }}   or   {% include "charts/bar.html" with chart=chart %}

Values are quantities (amounts, counts): negative ones are refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.template.loader import render_to_string

__all__ = ["Bar", "Chart", "Tick", "XLabel", "bar_chart", "grouped_bar_chart", "nice_ticks"]

# The SVG's own coordinate space; the drawing scales to its container's width.
WIDTH = 520
HEIGHT = 240
MARGIN_RIGHT = 12
MARGIN_TOP = 16
MARGIN_BOTTOM = 48
# Room for one character of a category label, to decide how many labels fit under the axis.
CHAR_WIDTH = 7.0
# Series colours are CSS classes chart-s0 … chart-s5 (static/css/charts.css).
MAX_SERIES = 6

Number = float | int


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # index of the series: the colour class chart-s<n>
    label: str  # the bar's tooltip: "Nov 2 · Requested: $1,200.00"
    text: str  # the value as shown
    text_x: float  # where the value sits above the bar
    text_y: float


@dataclass(frozen=True)
class Tick:
    y: float
    text: str


@dataclass(frozen=True)
class XLabel:
    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    """What the template draws: every coordinate is already computed."""

    id: str
    title: str
    description: str
    x_label: str
    y_label: str
    series: tuple[str, ...]
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    x_labels: tuple[XLabel, ...]
    table_head: tuple[str, ...]
    table_rows: tuple[tuple[str, tuple[str, ...]], ...]
    show_values: bool
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: float = 60.0
    plot_right: float = WIDTH - MARGIN_RIGHT
    plot_top: float = MARGIN_TOP
    plot_bottom: float = HEIGHT - MARGIN_BOTTOM
    template_name: str = "charts/bar.html"

    @property
    def has_legend(self) -> bool:
        return len(self.series) > 1

    @property
    def x_label_y(self) -> float:
        return self.plot_bottom + 18

    @property
    def x_axis_label_y(self) -> float:
        return self.height - 6

    @property
    def y_axis_label_x(self) -> float:
        return 12

    @property
    def plot_middle_x(self) -> float:
        return (self.plot_left + self.plot_right) / 2

    @property
    def plot_middle_y(self) -> float:
        return (self.plot_top + self.plot_bottom) / 2

    @property
    def tick_label_x(self) -> float:
        return self.plot_left - 6

    def render(self) -> str:
        return render_to_string(self.template_name, {"chart": self})

    def __html__(self) -> str:
        # Lets a template say {{ chart }}.
        return self.render()


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    description: str = "",
    value_format: Callable[[float], str] = lambda v: f"{v:,.0f}",
    x_label: str = "",
    y_label: str = "",
    series_name: str = "",
    show_values: bool | None = None,
    chart_id: str = "",
) -> Chart:
    """One bar per label."""
    return grouped_bar_chart(
        title=title,
        labels=labels,
        series=[(series_name or y_label or "Value", values)],
        description=description,
        value_format=value_format,
        x_label=x_label,
        y_label=y_label,
        show_values=show_values,
        chart_id=chart_id,
    )


def grouped_bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number]]],
    description: str = "",
    value_format: Callable[[float], str] = lambda v: f"{v:,.0f}",
    x_label: str = "",
    y_label: str = "",
    show_values: bool | None = None,
    chart_id: str = "",
) -> Chart:
    """Side-by-side bars: for each label, one bar per series (``[(name, values), ...]``)."""
    if not series:
        raise ValueError("A chart needs at least one series.")
    if len(series) > MAX_SERIES:
        raise ValueError(f"At most {MAX_SERIES} series.")
    labels = [str(label) for label in labels]
    rows = []
    for name, values in series:
        numbers = [float(v) for v in values]
        if len(numbers) != len(labels):
            raise ValueError(f"Series {name!r} has {len(numbers)} values for {len(labels)} labels.")
        if any(not math.isfinite(v) or v < 0 for v in numbers):
            raise ValueError(f"Series {name!r}: values must be finite and not negative.")
        rows.append((str(name), numbers))

    chart_id = chart_id or _slug(title)
    top = max((v for _, numbers in rows for v in numbers), default=0.0)
    tick_values = nice_ticks(top)
    tick_texts = [value_format(v) for v in tick_values]
    scale_max = tick_values[-1]
    # Room on the left for the longest tick label, and the rotated axis label beside it.
    plot_left = max(len(t) for t in tick_texts) * CHAR_WIDTH + 10 + (20 if y_label else 0)
    plot_right = WIDTH - MARGIN_RIGHT
    plot_top, plot_bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM
    plot_height = plot_bottom - plot_top

    def y_of(value: float) -> float:
        return plot_bottom - plot_height * value / scale_max

    band = (plot_right - plot_left) / max(1, len(labels))
    group_width = band * 0.76
    bar_width = group_width / len(rows)
    bars = []
    for i, label in enumerate(labels):
        group_left = plot_left + band * i + (band - group_width) / 2
        for s, (name, numbers) in enumerate(rows):
            value = numbers[i]
            top_y = y_of(value)
            text = value_format(value)
            bars.append(
                Bar(
                    x=_r(group_left + bar_width * s),
                    y=_r(top_y),
                    width=_r(max(bar_width - 1, 1)),
                    height=_r(plot_bottom - top_y),
                    series=s,
                    label=f"{label} · {name}: {text}" if len(rows) > 1 else f"{label}: {text}",
                    text=text,
                    text_x=_r(group_left + bar_width * s + max(bar_width - 1, 1) / 2),
                    text_y=_r(top_y - 4),
                )
            )

    # Label every n-th category so the labels never overlap (the table has them all).
    longest = max((len(label) for label in labels), default=1)
    every = max(1, math.ceil(longest * CHAR_WIDTH / max(band, 1)))
    x_labels = tuple(
        XLabel(x=_r(plot_left + band * (i + 0.5)), text=label)
        for i, label in enumerate(labels)
        if i % every == 0
    )
    ticks = tuple(Tick(y=_r(y_of(v)), text=t) for v, t in zip(tick_values, tick_texts, strict=True))
    if show_values is None:
        show_values = len(bars) <= 12
    names = tuple(name for name, _ in rows)
    return Chart(
        id=chart_id,
        title=title,
        description=description or _describe(labels, rows, value_format),
        x_label=x_label,
        y_label=y_label,
        series=names,
        bars=tuple(bars),
        ticks=ticks,
        x_labels=x_labels,
        table_head=(x_label or "Category", *names),
        table_rows=tuple(
            (label, tuple(value_format(numbers[i]) for _, numbers in rows))
            for i, label in enumerate(labels)
        ),
        show_values=show_values,
        plot_left=_r(plot_left),
    )


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """0 and about ``count`` round steps (1, 2, 2.5 or 5 × 10ⁿ) reaching at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    steps = math.ceil(top / step - 1e-9)
    return [_r(step * i, 6) for i in range(steps + 1)]


def _describe(labels: list[str], rows: list[tuple[str, list[float]]], fmt) -> str:
    if not labels:
        return "No data."
    parts = []
    for name, numbers in rows:
        high = max(range(len(numbers)), key=numbers.__getitem__)
        parts.append(
            f"{name}: total {fmt(sum(numbers))}, highest {fmt(numbers[high])} ({labels[high]})."
        )
    span = f"{len(labels)} categories, {labels[0]} to {labels[-1]}."
    return " ".join([span, *parts])


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return f"chart-{slug or 'x'}"


def _r(value: float, digits: int = 1) -> float:
    return round(value, digits)
