"""Charts drawn on the server as SVG geometry: the dashboard needs no script.

Each bar or point carries a ``title`` (read out by screen readers and shown as a tooltip), and
each chart a caption, a text summary and a data table, so the numbers never live in the picture
alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 560
HEIGHT = 220
_LEFT = 40
_BOTTOM = 30
_TOP = 12
_PLOT_HEIGHT = HEIGHT - _BOTTOM - _TOP


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Line:
    css: str
    points: str  # the SVG ``points`` attribute: "x,y x,y ..."


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True, slots=True)
class Table:
    """The chart's numbers as a table: a header row and one row per group."""

    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    summary: str
    bars: list[Bar]
    labels: list[Label]
    ticks: list[Label]
    legend: list[tuple[str, str]]  # (css class, name)
    table: Table = field(default_factory=lambda: Table([], []))
    points: list[Point] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    unit: str = ""
    width: int = WIDTH
    height: int = HEIGHT


def _scale(peak: float) -> float:
    """A round top for the value axis, at least 1."""
    top = max(1.0, peak)
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000):
        if top <= step * 4:
            return float(math.ceil(top / step) * step)
    return float(math.ceil(top))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _ticks(top: float) -> list[Label]:
    return [
        Label(
            _LEFT - 6, round(HEIGHT - _BOTTOM - _PLOT_HEIGHT * value / top + 4, 1), _number(value)
        )
        for value in sorted({0.0, top / 2, top})
    ]


def _y(value: float, top: float) -> float:
    return round(HEIGHT - _BOTTOM - _PLOT_HEIGHT * value / top, 1)


def _group_labels(groups: Sequence[str], slot: float) -> list[Label]:
    return [
        Label(round(_LEFT + index * slot + slot / 2, 1), HEIGHT - 10, group)
        for index, group in enumerate(groups)
    ]


def grouped_bars(
    title: str,
    groups: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[tuple[str, str]],
    *,
    group_name: str = "",
    unit: str = "",
) -> Chart:
    """One group of bars per ``(label, values)``; ``series`` names each value: (css, name)."""
    top = _scale(max((v for _, values in groups for v in values), default=0))
    plot_width = WIDTH - _LEFT - 8
    slot = plot_width / max(1, len(groups))
    bar_width = min(48.0, slot * 0.8 / max(1, len(series)))
    bars: list[Bar] = []
    parts: list[str] = []
    rows: list[list[str]] = []
    for index, (group, values) in enumerate(groups):
        start = _LEFT + index * slot + (slot - bar_width * len(series)) / 2
        for position, ((css, name), value) in enumerate(zip(series, values, strict=True)):
            height = _PLOT_HEIGHT * value / top
            bars.append(
                Bar(
                    x=round(start + position * bar_width, 1),
                    y=round(HEIGHT - _BOTTOM - height, 1),
                    width=round(max(1.0, bar_width - 2), 1),
                    height=round(height, 1),
                    css=css,
                    title=f"{group}, {name}: {_number(value)}{unit}",
                )
            )
            if value:
                parts.append(f"{group} {name} {_number(value)}{unit}")
        rows.append([group, *(_number(v) for v in values)])
    summary = "; ".join(parts) if parts else "nothing to show"
    table = Table([group_name or "Group", *(name for _, name in series)], rows)
    labels = _group_labels([g for g, _ in groups], slot)
    return Chart(title, summary, bars, labels, _ticks(top), list(series), table, unit=unit)


def line_points(
    title: str,
    groups: Sequence[tuple[str, Sequence[float | None]]],
    series: Sequence[tuple[str, str]],
    *,
    group_name: str = "",
    unit: str = "",
) -> Chart:
    """One point per group and series, joined by a line; ``None`` is a gap (no data)."""
    top = _scale(max((v for _, values in groups for v in values if v is not None), default=0))
    plot_width = WIDTH - _LEFT - 8
    slot = plot_width / max(1, len(groups))
    points: list[Point] = []
    lines: list[Line] = []
    parts: list[str] = []
    for position, (css, name) in enumerate(series):
        coordinates: list[str] = []
        for index, (group, values) in enumerate(groups):
            value = values[position]
            if value is None:
                continue
            x = round(_LEFT + index * slot + slot / 2, 1)
            y = _y(value, top)
            coordinates.append(f"{x},{y}")
            points.append(Point(x, y, css, f"{group}, {name}: {_number(value)}{unit}"))
            parts.append(f"{group} {name} {_number(value)}{unit}")
        if len(coordinates) > 1:
            lines.append(Line(css, " ".join(coordinates)))
    rows = [[group, *("" if v is None else _number(v) for v in values)] for group, values in groups]
    table = Table(
        [group_name or "Group", *(f"{name} ({unit.strip()})" for _, name in series)], rows
    )
    summary = "; ".join(parts) if parts else "nothing to show"
    labels = _group_labels([g for g, _ in groups], slot)
    return Chart(
        title,
        summary,
        [],
        labels,
        _ticks(top),
        list(series),
        table,
        points=points,
        lines=lines,
        unit=unit,
    )
