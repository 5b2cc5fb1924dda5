"""Bar charts drawn on the server as SVG geometry: the dashboard needs no script.

Each bar carries a ``title`` (read out by screen readers and shown as a tooltip), and each chart a
caption and a text summary, so the numbers never live in the picture alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 560
HEIGHT = 220
_LEFT = 40
_BOTTOM = 30
_TOP = 12


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    summary: str
    bars: list[Bar]
    labels: list[Label]
    ticks: list[Label]
    legend: list[tuple[str, str]]  # (css class, name)
    width: int = WIDTH
    height: int = HEIGHT


def _scale(peak: int) -> int:
    """A round top for the value axis, at least 1."""
    top = max(1, peak)
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000):
        if top <= step * 4:
            return -(-top // step) * step
    return top


def _ticks(top: int) -> list[Label]:
    plot = HEIGHT - _BOTTOM - _TOP
    return [
        Label(_LEFT - 6, HEIGHT - _BOTTOM - plot * value / top + 4, str(value))
        for value in sorted({0, top // 2, top})
    ]


def grouped_bars(
    title: str,
    groups: Sequence[tuple[str, Sequence[int]]],
    series: Sequence[tuple[str, str]],
) -> Chart:
    """One group of bars per ``(label, values)``; ``series`` names each value: (css, name)."""
    top = _scale(max((v for _, values in groups for v in values), default=0))
    plot_width = WIDTH - _LEFT - 8
    plot_height = HEIGHT - _BOTTOM - _TOP
    slot = plot_width / max(1, len(groups))
    bar_width = min(48.0, slot * 0.8 / max(1, len(series)))
    bars: list[Bar] = []
    labels: list[Label] = []
    parts: list[str] = []
    for index, (group, values) in enumerate(groups):
        start = _LEFT + index * slot + (slot - bar_width * len(series)) / 2
        for position, ((css, name), value) in enumerate(zip(series, values, strict=True)):
            height = plot_height * value / top
            bars.append(
                Bar(
                    x=round(start + position * bar_width, 1),
                    y=round(HEIGHT - _BOTTOM - height, 1),
                    width=round(bar_width - 2, 1),
                    height=round(height, 1),
                    css=css,
                    title=f"{group}, {name}: {value}",
                )
            )
            if value:
                parts.append(f"{group} {name} {value}")
        labels.append(Label(round(_LEFT + index * slot + slot / 2, 1), HEIGHT - 10, group))
    summary = "; ".join(parts) if parts else "nothing to show"
    return Chart(title, summary, bars, labels, _ticks(top), list(series))
