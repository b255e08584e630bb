"""Geopoints, geotraces and geoshapes drawn as SVG, with no map tiles.

The embedded deployment has no internet, so no tile server: the map is a
local frame in kilometres (grid, scale bar, north arrow) around the recorded
location, with the plaza of Santa Ana de Chipaya as a landmark when the
location is within reach, and the GPS accuracy as a circle. Pure: builds the
SVG with ElementTree (escaped by the serializer), no request, no session.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

# Santa Ana de Chipaya, main town and seat of the GAIOC (domain.md §2), about
# 19°02' S, 68°05' W [I: rounded public coordinates, good to ~0.5 km]; shown
# only as a landmark so a coordinator can tell where in the territory a point
# lies.
LANDMARK = (-19.0417, -68.0847)
LANDMARK_REACH_KM = 60.0
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON_EQUATOR = 111.32
WIDTH, HEIGHT, PAD = 480, 300, 28
_STEPS_KM = (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500)

Point = tuple[float, float, float | None]  # latitude, longitude, accuracy (m)


def parse_points(text: str) -> list[Point]:
    """ODK geo text: "lat lon [alt [acc]]" points separated by ";"."""
    points: list[Point] = []
    for chunk in text.split(";"):
        parts = chunk.split()
        if len(parts) < 2:
            continue
        try:
            lat, lon = float(parts[0]), float(parts[1])
            acc = float(parts[3]) if len(parts) > 3 else None
        except ValueError:
            continue
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            points.append((lat, lon, acc))
    return points


@dataclass(frozen=True)
class Bearing:
    km: float
    direction: str  # "n", "ne", "e", … ("" when at the landmark)


def from_landmark(lat: float, lon: float) -> Bearing | None:
    """Distance and compass direction from the landmark, if within reach."""
    east, north = _km(lat, lon, LANDMARK[0], LANDMARK[1])
    km = math.hypot(east, north)
    if km > LANDMARK_REACH_KM:
        return None
    if km < 0.05:
        return Bearing(km, "")
    names = ("n", "ne", "e", "se", "s", "so", "o", "no")
    angle = (math.degrees(math.atan2(east, north)) + 360) % 360
    return Bearing(km, names[int((angle + 22.5) // 45) % 8])


def _km(lat: float, lon: float, lat0: float, lon0: float) -> tuple[float, float]:
    east = (lon - lon0) * KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))
    north = (lat - lat0) * KM_PER_DEG_LAT
    return east, north


def _nice_step(span_km: float) -> float:
    target = span_km / 4
    return next((s for s in _STEPS_KM if s >= target), _STEPS_KM[-1])


def _fmt_km(km: float) -> str:
    return f"{km * 1000:.0f} m" if km < 1 else f"{km:g} km"


def map_svg(
    points: list[Point],
    *,
    kind: str = "geopoint",
    title: str,
    description: str,
    landmark_label: str,
    element_id: str,
) -> str:
    """An SVG map of the points; `kind` geotrace draws a line, geoshape a
    polygon. Texts come translated from the caller."""
    if not points:
        return ""
    lat0 = sum(p[0] for p in points) / len(points)
    lon0 = sum(p[1] for p in points) / len(points)
    coords = [_km(p[0], p[1], lat0, lon0) for p in points]
    landmark = _km(LANDMARK[0], LANDMARK[1], lat0, lon0)
    show_landmark = math.hypot(*landmark) <= LANDMARK_REACH_KM
    extent = coords + ([landmark] if show_landmark else [])
    xs, ys = [c[0] for c in extent], [c[1] for c in extent]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 0.4) * 1.25
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    scale = min(WIDTH - 2 * PAD, HEIGHT - 2 * PAD) / span  # px per km

    def px(east: float, north: float) -> tuple[float, float]:
        return (WIDTH / 2 + (east - cx) * scale, HEIGHT / 2 - (north - cy) * scale)

    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "class": "map",
            "role": "img",
            "aria-labelledby": f"{element_id}-t {element_id}-d",
            "id": element_id,
        },
    )
    _el(svg, "title", id=f"{element_id}-t").text = title
    _el(svg, "desc", id=f"{element_id}-d").text = description
    _el(
        svg, "rect", x="0", y="0", width=str(WIDTH), height=str(HEIGHT),
        fill="#f4efe3", stroke="#8a7f6a",
    )  # fmt: skip
    step = _nice_step(span)
    grid = _el(svg, "g", stroke="#d6ccb4", stroke_width="1")
    first = math.floor((cx - span) / step) * step
    value = first
    while value <= cx + span:
        x, _ = px(value, cy)
        _el(grid, "line", x1=f"{x:.1f}", y1="0", x2=f"{x:.1f}", y2=str(HEIGHT))
        value += step
    value = math.floor((cy - span) / step) * step
    while value <= cy + span:
        _, y = px(cx, value)
        _el(grid, "line", x1="0", y1=f"{y:.1f}", x2=str(WIDTH), y2=f"{y:.1f}")
        value += step
    if show_landmark:
        lx, ly = px(*landmark)
        mark = _el(svg, "g", class_="landmark")
        _el(
            mark, "rect", x=f"{lx - 5:.1f}", y=f"{ly - 5:.1f}", width="10", height="10",
            fill="#6b5d45",
        )  # fmt: skip
        _el(
            mark, "text", x=f"{lx + 9:.1f}", y=f"{ly + 4:.1f}", fill="#3d3426",
            font_size="12",
        ).text = landmark_label  # fmt: skip
    shape = [px(*c) for c in coords]
    if kind in ("geotrace", "geoshape") and len(shape) > 1:
        tag = "polygon" if kind == "geoshape" else "polyline"
        _el(
            svg, tag,
            points=" ".join(f"{x:.1f},{y:.1f}" for x, y in shape),
            fill="#b5452a33" if tag == "polygon" else "none",
            stroke="#b5452a", stroke_width="3",
        )  # fmt: skip
    for (x, y), point in zip(shape, points, strict=True):
        accuracy = point[2]
        if accuracy and accuracy > 0:
            radius = accuracy / 1000 * scale
            if radius >= 3:
                _el(
                    svg, "circle", cx=f"{x:.1f}", cy=f"{y:.1f}", r=f"{radius:.1f}",
                    fill="#1d6fa533", stroke="#1d6fa5",
                )  # fmt: skip
        _el(
            svg, "circle", cx=f"{x:.1f}", cy=f"{y:.1f}", r="7", fill="#b5452a",
            stroke="#ffffff", stroke_width="2.5",
        )  # fmt: skip
    _north_arrow(svg)
    _scale_bar(svg, step, scale)
    return ET.tostring(svg, encoding="unicode")


def _el(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    """A child element; `font_size` → `font-size`, `class_` → `class`."""
    return ET.SubElement(
        parent, tag, {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
    )


def _north_arrow(svg: ET.Element) -> None:
    arrow = _el(svg, "g", class_="north")
    x, y = WIDTH - 24, 14
    _el(
        arrow, "polygon", points=f"{x},{y} {x - 7},{y + 18} {x + 7},{y + 18}",
        fill="#3d3426",
    )  # fmt: skip
    _el(
        arrow, "text", x=str(x), y=str(y + 32), fill="#3d3426",
        font_size="12", text_anchor="middle",
    ).text = "N"  # fmt: skip


def _scale_bar(svg: ET.Element, step: float, scale: float) -> None:
    length = step * scale
    x, y = 12, HEIGHT - 14
    bar = _el(svg, "g", class_="scale")
    _el(
        bar, "rect", x=str(x), y=str(y - 4), width=f"{length:.1f}", height="5",
        fill="#3d3426",
    )  # fmt: skip
    _el(
        bar, "text", x=str(x), y=str(y - 8), fill="#3d3426", font_size="12"
    ).text = _fmt_km(step)
