"""The dashboard's SVG charts: valid SVG, scales, empty and single-point series, breaks, labels."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from bot.web.charts import (
    MUTED,
    PALETTE,
    LinearScale,
    Marker,
    Point,
    Projection,
    Series,
    line_chart,
    line_colours,
    nice_ticks,
    sparkline,
    thin,
)

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2025, 1, 6, tzinfo=UTC)


def weekly(*values: float, start: datetime = START) -> tuple[Point, ...]:
    return tuple(Point(start + timedelta(weeks=i), v) for i, v in enumerate(values))


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg"
    return root


def polylines(root: ET.Element) -> list[list[tuple[float, float]]]:
    lines = []
    for element in root.iter(f"{SVG}polyline"):
        pairs = [pair.split(",") for pair in element.attrib["points"].split()]
        lines.append([(float(x), float(y)) for x, y in pairs])
    return lines


def texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def box(root: ET.Element) -> tuple[float, float]:
    _, _, width, height = (float(v) for v in root.attrib["viewBox"].split())
    return width, height


def test_a_linear_scale_maps_its_domain_onto_its_range_and_a_flat_domain_to_the_middle() -> None:
    scale = LinearScale(0, 100, 200, 0)  # y grows downwards in SVG: 0 at the bottom
    assert (scale(0), scale(50), scale(100)) == (200, 100, 0)
    assert LinearScale(5, 5, 10, 30)(5) == 20


@pytest.mark.parametrize(
    ("high", "ticks"),
    [
        (1058, (0, 500, 1000, 1500)),
        (7, (0, 2, 4, 6, 8)),
        (1, (0, 0.5, 1)),
        (0, (0, 1)),
        (40, (0, 10, 20, 30, 40)),
    ],
)
def test_axis_ticks_are_round_numbers_from_zero_past_the_highest_value(
    high: float, ticks: tuple[float, ...]
) -> None:
    assert nice_ticks(high) == ticks


def test_a_sparkline_is_valid_svg_with_a_title_and_a_description_in_words() -> None:
    root = parse(sparkline([Series("websocket-manager", weekly(1058, 1000, 900))], label="ws"))
    assert root.attrib["role"] == "img"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}title").text == "ws"  # type: ignore[union-attr]
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text is not None
    assert "1,058 on 6 Jan 2025" in desc.text and "900 on 20 Jan 2025" in desc.text


def test_a_sparkline_scales_time_left_to_right_and_counts_upwards_inside_its_box() -> None:
    root = parse(sparkline([Series("c", weekly(10, 40, 20))], label="c"))
    width, height = box(root)
    [line] = polylines(root)
    xs = [x for x, _ in line]
    assert xs == sorted(xs) and xs[0] < xs[-1]
    assert all(0 <= x <= width and 0 <= y <= height for x, y in line)
    # 40 is the highest count: the highest point (smallest y); 10 the lowest.
    assert line[1][1] < line[2][1] < line[0][1]


def test_an_empty_sparkline_says_there_is_no_history() -> None:
    root = parse(sparkline([], label="nothing"))
    assert "no history" in texts(root)
    assert root.find(f"{SVG}circle") is None


def test_a_single_sample_is_a_dot_not_a_line() -> None:
    root = parse(sparkline([Series("c", weekly(5))], label="c"))
    assert polylines(root) == []
    assert len(list(root.iter(f"{SVG}circle"))) == 1
    chart = parse(line_chart([Series("c", weekly(5))], label="c", target=1))
    circles = list(chart.iter(f"{SVG}circle"))
    assert len(circles) == 1
    width, _ = box(chart)
    # One day either side: the dot in the middle of the plotting area, not at an edge.
    assert 0.3 * width < float(circles[0].attrib["cx"]) < 0.7 * width


def test_a_renamed_concept_is_two_lines_never_joined_across_the_break() -> None:
    before = Series("ws-manager", weekly(100, 90, 80), ended=True)
    after = Series("websocket-manager", weekly(80, 70, start=START + timedelta(weeks=3)))
    for svg in (
        sparkline([before, after], label="c"),
        line_chart(
            [before, after],
            label="c",
            markers=[Marker(START + timedelta(weeks=3), "renamed ws-manager → websocket-manager")],
        ),
    ):
        root = parse(svg)
        first, second = polylines(root)
        assert (len(first), len(second)) == (3, 2)
        assert first[-1][0] < second[0][0]  # a gap between the two: no line across the break
        strokes = [e.attrib["stroke"] for e in root.iter(f"{SVG}polyline")]
        assert MUTED in strokes and PALETTE[0] in strokes  # the ended series is muted
    chart = parse(svg)
    assert "renamed ws-manager → websocket-manager" in texts(chart)
    desc = chart.find(f"{SVG}desc")
    assert (
        desc is not None
        and "ws-manager: 100 on 6 Jan 2025, 80 on 20 Jan 2025 (series ended)" in (desc.text or "")
    )


def test_a_burn_down_has_axes_a_labelled_target_and_the_projected_date() -> None:
    eta = START + timedelta(weeks=20)
    root = parse(
        line_chart(
            [Series("websocket-manager", weekly(1058, 990, 940, 880))],
            label="websocket-manager",
            target=1,
            projection=Projection(eta, "target on 26 May 2025 at this pace"),
        )
    )
    labels = texts(root)
    assert "target 1" in labels and "target on 26 May 2025 at this pace" in labels
    assert {"0", "500", "1,000", "1,500"} <= set(labels)  # the count axis
    assert "6 Jan" in labels  # the time axis starts at the first sample
    width, height = box(root)
    data, projection = polylines(root)
    # The projection starts at the last sample and ends lower (at the target), further right.
    assert projection[0] == data[-1]
    assert projection[1][0] > projection[0][0] and projection[1][1] > projection[0][1]
    assert all(0 <= x <= width and 0 <= y <= height for x, y in projection)


def test_a_projection_years_away_is_drawn_to_the_edge_only() -> None:
    far = START + timedelta(days=365 * 40)
    root = parse(
        line_chart(
            [Series("c", weekly(1000, 999))],
            label="c",
            target=1,
            projection=Projection(far, "target in 2065 at this pace"),
        )
    )
    width, _ = box(root)
    _, projection = polylines(root)
    assert projection[1][0] <= width
    assert "2065" not in " ".join(texts(root)[:-1])  # the axis stops at two years ahead


def test_a_pace_that_never_reaches_the_target_is_said_without_a_line() -> None:
    root = parse(
        line_chart(
            [Series("c", weekly(10, 12))],
            label="c",
            target=1,
            projection=Projection(None, "not reached at this pace"),
        )
    )
    assert len(polylines(root)) == 1
    assert "not reached at this pace" in texts(root)


def test_an_empty_chart_says_there_is_no_history_yet() -> None:
    root = parse(line_chart([Series("c", ())], label="c", target=1))
    assert texts(root) == ["No history yet"]


def test_every_text_of_a_chart_is_escaped() -> None:
    evil = "<script>alert(1)</script>&'\""
    svg = line_chart(
        [Series(evil, weekly(3, 2))],
        label=evil,
        target=1,
        projection=Projection(None, evil),
        markers=[Marker(START, evil)],
    ) + sparkline([Series(evil, weekly(1, 2))], label=evil)
    assert "<script" not in svg
    for chart in (svg[: svg.index("</svg>") + 6], svg[svg.index("</svg>") + 6 :]):
        root = parse(chart)
        assert root.find(f"{SVG}script") is None
        assert root.attrib["aria-label"] == evil


def test_thinning_keeps_the_first_and_last_points_and_at_most_the_limit() -> None:
    points = weekly(*range(1000))
    kept = thin(points, 100)
    assert len(kept) == 100 and kept[0] == points[0] and kept[-1] == points[-1]
    assert [p.at for p in kept] == sorted(p.at for p in kept)
    assert thin(points[:5], 100) == points[:5]


def test_the_outer_dates_lean_inwards_so_the_chart_edges_cut_none() -> None:
    root = parse(line_chart([Series("c", weekly(*range(60, 0, -1)))], label="c"))
    labels = list(root.iter(f"{SVG}text"))
    bottom = max(float(e.attrib["y"]) for e in labels)
    dates = [e for e in labels if float(e.attrib["y"]) == bottom]  # the time axis
    anchors = [e.attrib["text-anchor"] for e in dates]
    assert anchors[0] == "start" and anchors[-1] == "end"
    assert set(anchors[1:-1]) <= {"middle"}
    assert all("20" in (e.text or "") for e in dates)  # over a year: months with their year


def test_two_series_renamed_at_once_share_one_marker() -> None:
    at = START + timedelta(weeks=1)
    marker = Marker(at, "renamed from ws-manager")
    root = parse(line_chart([Series("c", weekly(3, 2))], label="c", markers=[marker, marker]))
    assert texts(root).count("renamed from ws-manager") == 1


def test_a_series_keeps_the_colour_it_is_given_and_the_legend_can_know_it() -> None:
    lines = [
        Series("old", weekly(9, 8), ended=True, colour=PALETTE[2]),
        Series("new", weekly(7, 6, start=START + timedelta(weeks=2)), colour=PALETTE[2]),
        Series("dropped", weekly(5, 4), ended=True),
        Series("other", weekly(3, 2)),
    ]
    assert line_colours(lines) == [PALETTE[2], PALETTE[2], MUTED, PALETTE[0]]
    root = parse(line_chart(lines, label="c"))
    strokes = [e.attrib["stroke"] for e in root.iter(f"{SVG}polyline")]
    assert strokes == line_colours(lines)
    dashed = [e.attrib.get("stroke-dasharray") for e in root.iter(f"{SVG}polyline")]
    assert [bool(d) for d in dashed] == [True, False, True, False]  # ended: dashed
