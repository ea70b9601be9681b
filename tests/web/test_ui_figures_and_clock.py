"""In a real browser: the dashboard's headline figures stay inside their cards on a phone
whatever their size, and new disruptions default to the simulated clock, not to today."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

# the text's box against its card's content box (inside border and padding)
MEASURE = """id => {
  const value = document.getElementById(id);
  const card = value.closest('.card');
  const box = card.getBoundingClientRect();
  const style = getComputedStyle(card);
  const range = document.createRange();
  range.selectNodeContents(value);
  const text = range.getBoundingClientRect();
  return {
    text: value.textContent, title: value.title,
    left: text.left, right: text.right, top: text.top, bottom: text.bottom,
    inLeft: box.left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft),
    inRight: box.right - parseFloat(style.borderRightWidth) - parseFloat(style.paddingRight),
    inTop: box.top + parseFloat(style.borderTopWidth) + parseFloat(style.paddingTop),
    inBottom: box.bottom - parseFloat(style.borderBottomWidth) - parseFloat(style.paddingBottom),
  };
}"""
SUBPIXEL = 0.5


def _assert_inside(box: dict[str, Any]) -> None:
    assert box["left"] >= box["inLeft"] - SUBPIXEL, box
    assert box["right"] <= box["inRight"] + SUBPIXEL, box
    assert box["top"] >= box["inTop"] - SUBPIXEL, box
    assert box["bottom"] <= box["inBottom"] + SUBPIXEL, box


def _dashboard(sales: float) -> str:
    return json.dumps(
        {
            "counts": [{"name": "fact_receipts", "kind": "fact", "rows": 98_765_432_109}],
            "daily_sales": [{"date": "2024-01-01", "sales": sales, "receipts": 1_234_567}],
            "traffic_by_hour": [],
            "recent_events": [],
            "streaming": False,
        }
    )


def test_the_phone_dashboard_figures_stay_inside_their_cards(
    server: Any, phone: Any, shot: Callable[..., Path]
) -> None:
    server.generate(days=2)
    phone.goto(f"{server.url}/#dashboard")
    expect(phone.locator("#stat-sales")).not_to_have_text("–")
    for stat in ("stat-dims", "stat-facts", "stat-receipts", "stat-sales"):
        _assert_inside(phone.evaluate(MEASURE, stat))
    shot(phone, "phone-dashboard")


@pytest.mark.parametrize("sales", [48_123_456.0, 123_456_789.0, 12_345_678_901.0])
def test_large_sales_figures_fit_a_phone_card_in_full_or_compact(
    server: Any, phone: Any, shot: Callable[..., Path], sales: float
) -> None:
    """What 120 days of a large chain add up to (the API answer is replaced in the browser)."""
    body = _dashboard(sales)
    phone.route(
        lambda url: url.endswith("/api/dashboard"),
        lambda route: route.fulfill(status=200, content_type="application/json", body=body),
    )
    phone.goto(f"{server.url}/#dashboard")
    expect(phone.locator("#stat-sales")).not_to_have_text("–")
    box = phone.evaluate(MEASURE, "stat-sales")
    _assert_inside(box)
    assert box["title"] == f"${sales:,.0f}"  # the full amount is always in the tooltip
    _assert_inside(phone.evaluate(MEASURE, "stat-facts"))
    shot(phone, f"phone-sales-{int(sales)}")


def test_new_disruptions_default_to_the_simulated_clock(server: Any, page: Any) -> None:
    server.generate(days=2)  # the history ends 2024-01-02 23:59:59.999999
    page.goto(f"{server.url}/#streaming")
    start = page.locator('#form-disruption [name="start"]')
    expect(start).to_have_value("2024-01-03T00:00")
    expect(page.locator('#form-disruption [name="end"]')).to_have_value("2024-01-03T06:00")
    expect(page.locator("#disruption-clock")).to_have_text("Simulated clock: 2024-01-03 00:00")
    page.locator("#disruption-kind").select_option("weather_delay")
    page.locator("#disruption-target-type").select_option("network")
    page.get_by_role("button", name="Add disruption").click()
    expect(page.locator("#disruption-table tbody")).to_contain_text("2024-01-03")
    # an edited time is kept when the tab is shown again
    start.fill("2024-01-04T08:30")
    page.get_by_role("tab", name="Data").click()
    page.get_by_role("tab", name="Streaming").click()
    expect(start).to_have_value("2024-01-04T08:30")
