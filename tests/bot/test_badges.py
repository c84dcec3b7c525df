"""Badges: ``GET /badges/{owner}/{repo}.svg?concept=NAME``, a shields-style SVG of the count
and target coloured by trend, with ETag and Cache-Control; a private repository's only with
its key, and the same 404 whatever is wrong, so a URL never reveals a private repository."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

from fastapi.testclient import TestClient

from analyzers import trend
from bot.progress.badge import COLOURS, Badge, badge_for, render_svg
from bot.store import dashboards, db, history

NOW = db.utcnow()
REPO = "acme/monorepo"
SVG_NS = "{http://www.w3.org/2000/svg}"


def record(
    engine: Any, days_ago: float, count: int, *, concept: str = "ws", repo: str = REPO
) -> None:
    totals: tuple[history.Total, ...] = (
        (concept, "SSOT001", count * 2, 0),
        (concept, "SSOT002", count, 1),
    )
    history.record_sample(
        engine,
        history.HistorySample(
            installation_id=7,
            repo=repo,
            commit_sha=f"{repo}-{days_ago}",
            committed_at=NOW - dt.timedelta(days=days_ago),
            policy_key="p",
            series=trend.series_key(totals),
            totals=totals,
            source="push",
            recorded_at=NOW,
        ),
    )


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    return [t.text or "" for t in root.iter(f"{SVG_NS}text")]


def fill_of(svg: str) -> str:
    root = ET.fromstring(svg)
    rects = [r for r in root.iter(f"{SVG_NS}rect") if r.get("x")]
    return rects[0].get("fill") or ""


def test_a_public_repositorys_badge_shows_count_and_target_green_when_falling(
    client: TestClient, engine: Any
) -> None:
    record(engine, 40, 1_200)
    record(engine, 1, 1_058)
    dashboards.set_private(engine, 7, REPO, False, now=NOW)
    response = client.get(f"/badges/{REPO}.svg", params={"concept": "ws"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert texts(response.text) == ["ws", "1,058 -> 1"]  # implementations by default
    assert fill_of(response.text) == COLOURS["falling"]
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["x-content-type-options"] == "nosniff"
    rule = client.get(f"/badges/{REPO}.svg", params={"concept": "ws", "rule": "SSOT001"})
    assert texts(rule.text) == ["ws", "2,116 -> 0"]


def test_the_etag_answers_304_until_the_badge_changes(client: TestClient, engine: Any) -> None:
    record(engine, 1, 10)
    dashboards.set_private(engine, 7, REPO, False, now=NOW)
    first = client.get(f"/badges/{REPO}.svg?concept=ws")
    etag = first.headers["etag"]
    again = client.get(f"/badges/{REPO}.svg?concept=ws", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    record(engine, 0.5, 9)
    changed = client.get(f"/badges/{REPO}.svg?concept=ws", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_rising_is_red_flat_and_unknown_are_grey(engine: Any) -> None:
    def rows(*points: tuple[float, int]) -> list[Any]:
        return [
            type("S", (), {"commit_sha": str(d), "committed_at": NOW - dt.timedelta(days=d),
                           "totals": (("ws", "SSOT002", n, 1),)})()
            for d, n in points
        ]  # fmt: skip

    assert badge_for(rows((40, 5), (1, 9)), "ws", None, now=NOW).colour == COLOURS["rising"]
    assert badge_for(rows((40, 5), (1, 5)), "ws", None, now=NOW).colour == COLOURS["flat"]
    assert badge_for(rows((1, 5)), "ws", None, now=NOW).colour == COLOURS["unknown"]
    assert badge_for(rows((1, 5)), "other", None, now=NOW).value == "unknown concept"
    assert badge_for([], "ws", None, now=NOW).value == "no data yet"


def test_a_private_repositorys_badge_needs_its_key_and_hides_otherwise(
    client: TestClient, engine: Any
) -> None:
    record(engine, 1, 10)
    dashboards.set_private(engine, 7, REPO, True, now=NOW)
    key = dashboards.badge_repo(engine, 7, REPO, now=NOW).key
    unknown = client.get("/badges/acme/nothing-here.svg?concept=ws")
    without = client.get(f"/badges/{REPO}.svg?concept=ws")
    wrong = client.get(f"/badges/{REPO}.svg", params={"concept": "ws", "key": key[:-1] + "x"})
    for refused in (unknown, without, wrong):
        assert refused.status_code == 404
        assert refused.content == unknown.content  # nothing tells them apart
        assert refused.headers["content-type"] == unknown.headers["content-type"]
    shown = client.get(f"/badges/{REPO}.svg", params={"concept": "ws", "key": key})
    assert shown.status_code == 200 and texts(shown.text) == ["ws", "10 -> 1"]
    assert shown.headers["cache-control"] == "private, max-age=300"


def test_a_repository_of_unknown_visibility_is_treated_as_private(
    client: TestClient, engine: Any
) -> None:
    record(engine, 1, 10)
    key = dashboards.badge_repo(engine, 7, REPO, now=NOW).key  # no webhook said "public" yet
    assert client.get(f"/badges/{REPO}.svg?concept=ws").status_code == 404
    assert (
        client.get(f"/badges/{REPO}.svg", params={"concept": "ws", "key": key}).status_code == 200
    )


def test_names_from_the_policy_are_escaped_in_the_svg() -> None:
    svg = render_svg(Badge('<script>alert("x")</script>&', "1 -> 0", '#4c1"/><script>'))
    assert "<script>" not in svg
    assert texts(svg)[0] == '<script>alert("x")</script>&'
