"""Geometry for the inline SVG charts the templates draw. Pure functions.

Charts never rely on colour alone: the selected period is hatched and
labelled, missing values are marked "no data", and each chart sits beside a
table of the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 360
HEIGHT = 120
TOP = 16
BOTTOM = 20
GAP = 4


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    text: str
    selected: bool
    missing: bool

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


@dataclass
class ColumnChart:
    bars: list[Bar]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def baseline(self) -> int:
        return self.height - BOTTOM


def column_chart(
    values: Sequence[Decimal | float | None],
    labels: Sequence[str],
    texts: Sequence[str],
    selected: int | None = None,
) -> ColumnChart:
    """Columns from zero; negative values are drawn as zero height."""
    if selected is None:
        selected = len(values) - 1
    present = [float(v) for v in values if v is not None]
    top = max([v for v in present if v > 0], default=0.0) or 1.0
    usable = HEIGHT - TOP - BOTTOM
    slot = WIDTH / max(len(values), 1)
    bars = []
    for i, (value, label, text) in enumerate(zip(values, labels, texts, strict=True)):
        h = 0.0 if value is None else max(float(value), 0.0) / top * usable
        bars.append(
            Bar(
                x=round(i * slot + GAP / 2, 2),
                y=round(HEIGHT - BOTTOM - h, 2),
                width=round(slot - GAP, 2),
                height=round(h, 2),
                label=label,
                text=text,
                selected=i == selected,
                missing=value is None,
            )
        )
    return ColumnChart(bars=bars)


@dataclass
class Segment:
    key: str
    label: str
    y: float
    height: float
    count: int


@dataclass
class StackedBar:
    x: float
    width: float
    label: str
    segments: list[Segment]
    total: int
    selected: bool

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


def stacked_share_chart(
    rows: Sequence[dict[str, int]],
    keys: Sequence[tuple[str, str]],
    labels: Sequence[str],
    selected: int | None = None,
) -> list[StackedBar]:
    """100% stacked columns (share of each key per period)."""
    if selected is None:
        selected = len(rows) - 1
    usable = HEIGHT - TOP - BOTTOM
    slot = WIDTH / max(len(rows), 1)
    bars = []
    for i, (row, label) in enumerate(zip(rows, labels, strict=True)):
        total = sum(row.get(k, 0) for k, _ in keys)
        y = float(HEIGHT - BOTTOM)
        segments = []
        for key, key_label in keys:
            count = row.get(key, 0)
            h = count / total * usable if total else 0.0
            y -= h
            segments.append(Segment(key, key_label, round(y, 2), round(h, 2), count))
        bars.append(
            StackedBar(
                x=round(i * slot + GAP / 2, 2),
                width=round(slot - GAP, 2),
                label=label,
                segments=segments,
                total=total,
                selected=i == selected,
            )
        )
    return bars
