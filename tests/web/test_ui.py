"""The web UI in a real browser: generate from the Data tab and watch the progress reach
100 %, the estimate shown before generating, preview a table, the dashboard charts, streaming
to a file sink, inline config errors, clearing all data through three confirmations, and the
phone-sized layout."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from retail_datagen.disruptions import DisruptionService


def test_generate_facts_from_the_data_tab_and_preview_a_table(
    server: Any, page: Any, shot: Callable[..., Path]
) -> None:
    page.goto(f"{server.url}/#data")
    form = page.locator("#form-facts")
    form.get_by_label("Start").fill("2024-01-01")
    form.get_by_label("Days").fill("2")
    form.get_by_label("Workers").fill("1")
    form.get_by_role("button", name="Generate facts").click()

    expect(page.locator("#progress-percent")).to_have_text("100.0 %", timeout=60_000)
    expect(page.locator("#progress-tables")).to_have_text("2/2 days complete")
    expect(page.locator("#progress-bar")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#progress-detail")).to_contain_text("succeeded")
    expect(page.locator("#progress-eta")).to_have_text(re.compile(r"^ETA "))

    receipts = page.locator('#tables-list tr[data-table="fact_receipts"]')
    expect(receipts.locator("td.num")).not_to_have_text("–")
    page.get_by_role("button", name="Preview fact_receipts").click()
    expect(page.locator("#preview-title")).to_have_text("Preview: fact_receipts")
    first = page.locator("#preview-table tbody tr").first.locator("td").first
    expect(first).to_have_text(re.compile(r"^RC-"))
    expect(page.locator("#preview-meta")).to_contain_text("2024-01-01")
    assert (server.data_dir / "retail.duckdb").exists()
    page.evaluate("document.querySelector('#tables-list').parentElement.scrollTop = 0")
    shot(page, "data", full_page=True)


def test_the_facts_form_shows_the_estimate_and_a_large_run_asks_first(
    server: Any, page: Any
) -> None:
    page.goto(f"{server.url}/#data")
    estimate = page.locator("#facts-estimate")
    expect(estimate).to_contain_text(re.compile(r"^Estimate: [\d,]+ days \(2024-01-01 → "))
    expect(estimate).to_contain_text("of Parquet on disk")
    form = page.locator("#form-facts")
    form.get_by_label("Start").fill("2024-01-01")
    form.get_by_label("Days").fill("3")
    form.get_by_label("Format").select_option("csv")
    expect(estimate).to_contain_text("Estimate: 3 days (2024-01-01 → 2024-01-03)")
    expect(estimate).to_contain_text("of CSV on disk")
    form.get_by_label("Days").fill("0")
    expect(estimate).to_contain_text("days")  # the server's one-line reason

    # a busy chain: its whole history is over 20 GB, so starting it asks first
    page.goto(f"{server.url}/#config")
    page.locator('[data-key="volume.customers_per_day"]').fill("200000")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#toast")).to_contain_text("configuration saved")
    page.goto(f"{server.url}/#data")
    form.get_by_label("Days").fill("")
    form.get_by_label("Start").fill("")
    form.get_by_label("Format").select_option("")
    expect(estimate).to_have_class(re.compile(r"\blarge\b"))
    expect(estimate).to_contain_text("GB of Parquet on disk")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    with page.expect_event("dialog"):
        form.get_by_role("button", name="Generate facts").click()
    expect(page.locator("#progress-detail")).to_have_text("No task yet.")
    page.wait_for_timeout(500)  # a started task would show by now
    assert len(asked) == 1 and "over 20 GB or 30 minutes" in asked[0], asked
    assert page.request.get(f"{server.url}/api/tasks").json()["tasks"] == []


def test_dashboard_shows_counts_and_charts(
    server: Any, page: Any, shot: Callable[..., Path]
) -> None:
    server.generate(days=14)
    page.goto(server.url)
    expect(page.locator("#stat-facts")).not_to_have_text("–")
    expect(page.locator("#chart-sales")).to_have_attribute(
        "aria-label", re.compile(r"Daily sales over 14 days")
    )
    expect(page.locator("#chart-traffic")).to_have_attribute(
        "aria-label", re.compile(r"busiest hour")
    )
    expect(page.locator("#dash-counts tbody tr")).to_have_count(26)  # 10 dimensions, 16 facts
    painted = page.evaluate(
        """() => {
            const c = document.getElementById('chart-sales');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
            return n;
        }"""
    )
    assert painted > 1000  # the line and its labels were drawn
    shot(page, "dashboard")


def test_streaming_to_a_file_sink_moves_the_counter(
    server: Any, page: Any, shot: Callable[..., Path]
) -> None:
    server.generate(days=1)
    page.goto(f"{server.url}/#streaming")
    sink = page.get_by_label("Sink URL")
    expect(sink).to_have_value("file:stream/events.jsonl")  # relative to the data folder
    # by default a stream starts at the present, live (speed 1): the event mix of now
    from_now = page.get_by_label("Start at the present", exact=False)
    expect(from_now).to_be_checked()
    expect(page.locator("#stream-mode")).to_have_value("speed")
    expect(page.locator("#stream-mode")).to_be_disabled()
    from_now.uncheck()  # continue the history instead, at a rate (events whatever the hour)
    page.locator("#stream-mode").select_option("rate")
    page.get_by_label("Events per second", exact=True).fill("300")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#stream-badge")).to_have_text("running")
    expect(page.locator("#st-sent")).not_to_have_text("0", timeout=20_000)
    first = int(page.locator("#st-sent").inner_text().replace(",", ""))
    page.wait_for_function(
        "n => Number(document.getElementById('st-sent').textContent.replace(/,/g, '')) > n",
        arg=first,
        timeout=20_000,
    )
    expect(page.locator("#stream-events li .etype").first).to_be_visible()
    if os.environ.get("RETAIL_DATAGEN_SCREENSHOTS") == "1":
        page.wait_for_timeout(8_000)  # a few more points on the rate chart for the docs
    shot(page, "streaming")
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("#stream-badge")).to_have_text("stopped")
    assert (server.data_dir / "stream" / "events.jsonl").stat().st_size > 0


def test_removing_all_disruptions_asks_first(server: Any, page: Any) -> None:
    DisruptionService(server.data_dir).create(
        "weather_delay", "network", None, datetime(2024, 1, 2), datetime(2024, 1, 3)
    )
    page.goto(f"{server.url}/#streaming")
    rows = page.locator("#disruption-table tbody tr")
    expect(rows).to_contain_text("weather_delay")
    answers = iter([False, True])  # "Cancel" first, then "OK"
    page.on("dialog", lambda d: d.accept() if next(answers) else d.dismiss())
    remove_all = page.get_by_role("button", name="Remove all")
    with page.expect_event("dialog"):
        remove_all.click()
    page.wait_for_timeout(300)
    assert len(DisruptionService(server.data_dir).list()) == 1
    with page.expect_event("dialog"):
        remove_all.click()
    expect(rows).to_have_text("No disruptions.")
    assert DisruptionService(server.data_dir).list() == []


def test_config_shows_inline_errors_from_the_api(
    server: Any, page: Any, shot: Callable[..., Path]
) -> None:
    page.goto(f"{server.url}/#config")
    stores = page.locator('[data-key="volume.stores"]')
    expect(stores).to_have_value("4")
    stores.fill("0")
    error = page.locator("#cfg-volume-stores-error")
    expect(error).to_contain_text("volume.stores = 0")
    expect(stores).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#toast")).to_contain_text("not saved")
    assert '"stores": 4' in server.config_file.read_text(encoding="utf-8")
    stores.fill("5")
    expect(error).to_have_text("")
    trucks = page.locator('[data-key="volume.refrigerated_trucks"]')  # null: sized by the network
    expect(trucks).to_have_value("")
    expect(trucks).to_have_attribute("placeholder", "sized from the network")
    supplier = page.locator('[data-key="volume.supplier_non_refrigerated_trucks"]')
    expect(supplier).to_have_value("")
    expect(supplier).to_have_attribute("placeholder", "sized from the network")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#toast")).to_contain_text("configuration saved")
    saved = server.config_file.read_text(encoding="utf-8")
    assert '"stores": 5' in saved and '"refrigerated_trucks": null' in saved
    page.get_by_label("Connection string", exact=True).fill(
        "Endpoint=sb://demo-ns.servicebus.windows.net/;SharedAccessKeyName=send;"
        "SharedAccessKey=ZGVtby1rZXk=;EntityPath=retail"
    )
    page.get_by_role("button", name="Validate connection string").click()
    result = page.locator("#connection-result")
    expect(result).to_contain_text("demo-ns")
    expect(result).not_to_contain_text("ZGVtby1rZXk=")
    shot(page, "config")


def test_clear_all_data_needs_three_confirmations(server: Any, page: Any) -> None:
    server.generate(days=1)
    page.goto(f"{server.url}/#config")
    start = page.get_by_role("button", name="Clear all data…")

    # cancelling at the last step deletes nothing
    start.click()
    page.locator("#clear-next-1").click()
    page.locator("#clear-phrase").fill("DELETE ALL DATA")
    page.locator("#clear-next-2").click()
    page.get_by_role("button", name="Keep my data").click()
    expect(page.locator("#clear-step-3")).not_to_be_visible()
    assert (server.data_dir / "retail.duckdb").exists()

    start.click()
    step1 = page.locator("#clear-step-1")
    expect(step1).to_be_visible()
    expect(step1).to_contain_text("Step 1 of 3")
    page.locator("#clear-next-1").click()
    step2 = page.locator("#clear-step-2")
    expect(step2).to_contain_text("Step 2 of 3")
    expect(page.locator("#clear-next-2")).to_be_disabled()
    page.locator("#clear-phrase").fill("delete all data")
    expect(page.locator("#clear-next-2")).to_be_disabled()
    page.locator("#clear-phrase").fill("DELETE ALL DATA")
    page.locator("#clear-next-2").click()
    step3 = page.locator("#clear-step-3")
    expect(step3).to_contain_text("Step 3 of 3")
    assert (server.data_dir / "retail.duckdb").exists()  # still nothing deleted
    page.get_by_role("button", name="Delete everything").click()
    expect(page.locator("#clear-result")).to_contain_text("Removed")
    assert not (server.data_dir / "retail.duckdb").exists()


def test_phone_sized_layout_fits_the_screen(
    server: Any, phone: Any, shot: Callable[..., Path]
) -> None:
    server.generate(days=7)
    for tab in ("dashboard", "data", "streaming", "config"):
        phone.goto(f"{server.url}/#{tab}")
        expect(phone.locator(f"#tab-{tab}")).to_have_attribute("aria-selected", "true")
        expect(phone.locator(f"#panel-{tab}")).to_be_visible()
        phone.wait_for_timeout(300)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (tab, width)
    phone.goto(f"{server.url}/#dashboard")
    expect(phone.locator("#stat-facts")).not_to_have_text("–")
    phone.get_by_role("tab", name="Data").click()
    expect(phone.locator("#panel-data")).to_be_visible()
    phone.get_by_role("tab", name="Dashboard").click()
    expect(phone.locator("#chart-sales")).to_have_attribute("aria-label", re.compile("7 days"))
    shot(phone, "phone")
