"""Bar charts as server-side SVG: they render with no JavaScript and no
internet, and print as they look.

Horizontal bars, one row per category, optionally stacked by series, with a
legend and the total at the end of each bar. Each chart is an `img` with a
`<title>` and `<desc>` for screen readers, and each segment has a `<title>`
that browsers show on hover; the page puts the same numbers in a table beside
it. Colours come from the Okabe–Ito palette, which stays distinguishable for
the common colour-vision deficiencies. Pure: ElementTree builds (and escapes)
the SVG.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#6B5D45",
    "#999999",
)
WIDTH = 720
LABEL_W = 270
ROW_H = 26
BAR_H = 18
TOP = 10
LEGEND_ROW = 22
MAX_LABEL = 36  # about what fits in LABEL_W at 13 px


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    color: str = ""


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[float, ...]  # one per series


def _el(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(
        parent, tag, {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
    )


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def bar_chart(
    *,
    element_id: str,
    title: str,
    description: str,
    rows: list[Row],
    series: list[Series],
) -> str:
    """A horizontal (stacked when several series) bar chart; "" with no rows."""
    if not rows:
        return ""
    colors = [s.color or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]
    longest = max((len(s.label) for s in series), default=0)
    per_row, item_w, max_chars = (5, 140, 18) if longest <= 18 else (2, 350, 46)
    legend_rows = -(-len(series) // per_row) if series else 0
    top = TOP + legend_rows * LEGEND_ROW
    height = top + len(rows) * ROW_H + 10
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {WIDTH} {height}",
            "class": "chart",
            "role": "img",
            "aria-labelledby": f"{element_id}-t {element_id}-d",
            "id": element_id,
        },
    )
    _el(svg, "title", id=f"{element_id}-t").text = title
    _el(svg, "desc", id=f"{element_id}-d").text = description
    if legend_rows:
        legend = _el(svg, "g", class_="legend", font_size="13")
        for index, (item, color) in enumerate(zip(series, colors, strict=True)):
            x = 10 + (index % per_row) * item_w
            y = TOP + (index // per_row) * LEGEND_ROW
            _el(legend, "rect", x=str(x), y=str(y), width="14", height="14", fill=color)
            _el(legend, "text", x=str(x + 20), y=str(y + 12), fill="#1b1b1b").text = (
                item.label
                if len(item.label) <= max_chars
                else item.label[: max_chars - 1] + "…"
            )
    biggest = max((sum(row.values) for row in rows), default=0) or 1
    plot_w = WIDTH - LABEL_W - 60
    body = _el(svg, "g", font_size="13")
    for index, row in enumerate(rows):
        y = top + index * ROW_H
        label = _el(body, "text", x="4", y=str(y + 14), fill="#1b1b1b")
        label.text = _short(row.label)
        if len(row.label) > MAX_LABEL:
            _el(label, "title").text = row.label
        x = float(LABEL_W)
        axis = str(LABEL_W)
        _el(
            body,
            "line",
            x1=axis,
            y1=str(y),
            x2=axis,
            y2=str(y + ROW_H),
            stroke="#8a7f6a",
        )
        for value, item, color in zip(row.values, series, colors, strict=True):
            if value <= 0:
                continue
            width = value / biggest * plot_w
            segment = _el(
                body, "rect", x=f"{x:.1f}", y=str(y + (ROW_H - BAR_H) // 2),
                width=f"{max(width, 1):.1f}", height=str(BAR_H), fill=color,
            )  # fmt: skip
            name = f"{row.label} · {item.label}: " if len(series) > 1 else ""
            _el(segment, "title").text = f"{name}{_number(value)}"
            x += width
        _el(
            body, "text", x=f"{x + 6:.1f}", y=str(y + 14), fill="#1b1b1b"
        ).text = _number(sum(row.values))
    return ET.tostring(svg, encoding="unicode")
