"""librdkafka's log, collapsed: one line per distinct condition, repeats counted and
rate-limited (a fake clock drives the window)."""

from __future__ import annotations

import logging

import pytest

from retail_datagen.streaming.sinks.kafka_log import CollapsingLogger

FMT = "%s [%s] %s"
REFUSED = (
    "[thrd:127.0.0.1:9092/bootstrap]: 127.0.0.1:9092/bootstrap: Connect to ipv4#127.0.0.1:9092 "
    "failed: Connection refused (after {} ms in state CONNECT)"
)


def test_a_repeated_condition_is_one_line_per_window(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    collapsing = CollapsingLogger(
        logging.getLogger("test.librdkafka"), window=30.0, clock=lambda: now[0]
    )
    with caplog.at_level(logging.DEBUG, logger="test.librdkafka"):
        for i in range(726):  # what one outage printed before (726 lines), over 36 s
            now[0] = i * 0.05
            collapsing.log(logging.ERROR, FMT, "FAIL", "rdkafka#producer-1", REFUSED.format(i))
        collapsing.log(logging.WARNING, FMT, "PARTCNT", "rdkafka#producer-1", "count changed")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines
    assert lines[0].startswith("librdkafka FAIL: 127.0.0.1:9092/bootstrap: Connect to")
    assert "[thrd:" not in lines[0]
    assert lines[1].endswith("(and 599 more like it in the last 30 s)")  # at 30 s: counted
    assert lines[2] == "librdkafka PARTCNT: count changed"  # another condition: logged at once


def test_a_probe_logs_below_the_cli_threshold(caplog: pytest.LogCaptureFixture) -> None:
    quiet = CollapsingLogger(logging.getLogger("test.probe"), max_level=logging.DEBUG)
    with caplog.at_level(logging.DEBUG, logger="test.probe"):
        quiet.log(logging.ERROR, FMT, "FAIL", "x", "refused")
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
