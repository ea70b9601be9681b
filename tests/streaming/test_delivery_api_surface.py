"""The public surface of the sink, delivery, dead-letter, credentials and stats modules does not
drift silently: a change here is a change for the streamer, the CLI and the API."""

from __future__ import annotations

import importlib

import pytest

EXPECTED = {
    "retail_datagen.streaming.sinks": {
        "ACCEPTED_FORMS",
        "PROBE_TIMEOUT",
        "Sink",
        "SinkCheck",
        "SinkError",
        "SinkUnreachableError",
        "check_sink",
        "kafka_config",
        "open_sink",
        "probe_sink",
    },
    "retail_datagen.streaming.delivery": {
        "Backoff",
        "CircuitBreaker",
        "CircuitState",
        "DeliveryPipeline",
        "Outcome",
        "PipelineClosedError",
    },
    "retail_datagen.streaming.dead_letters": {"DeadLetter", "DeadLetterStore", "ReplayResult"},
    "retail_datagen.streaming.credentials": {
        "ConnectionInfo",
        "ConnectionKind",
        "describe_connection_string",
    },
    "retail_datagen.streaming.stats": {
        "CIRCUIT_STATES",
        "DeliveryCounts",
        "StatsSnapshot",
        "StreamStats",
        "StreamStatsCollector",
        "render_prometheus",
    },
}


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_public_names_are_exactly_the_documented_ones(module: str) -> None:
    loaded = importlib.import_module(module)
    assert set(loaded.__all__) == EXPECTED[module]
    for name in loaded.__all__:
        assert hasattr(loaded, name), name
