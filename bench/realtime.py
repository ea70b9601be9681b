"""Benchmark: live streaming to the file sink.

Usage: python bench/realtime.py [--seconds 20] [--rate 1000] [--stores 12]

1. envelopes: building event envelopes from one simulated day's Arrow tables (one core);
2. real time: the EventStreamer in real-time mode at a speed chosen so about ``--rate`` events
   per second come due, anchored at noon of the first streamed day (so the window falls in
   opening hours), to a JSON Lines file for ``--seconds``; reports the pacing lateness of live
   (non-backlog) events — when each event was released versus when it came due;
3. unthrottled: rate mode as fast as the pipeline and the file sink take events (days are
   persisted as they complete), end-to-end events per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.history import History
from retail_datagen.engine.simulation import Simulation
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.streaming.event_streamer import RELEASE_CHUNK, SEGMENT_EVENTS, EventStreamer
from retail_datagen.streaming.events import DayEvents, ingest_stamp
from retail_datagen.streaming.pacing import sim_micros

START = date(2024, 3, 1)
FIRST = date(2024, 3, 3)  # the first streamed day


def _config(root: Path, stores: int) -> RetailConfig:
    return RetailConfig.from_mapping(
        {
            "seed": 42,
            "volume": {
                "stores": stores,
                "dcs": 2,
                "total_geographies": 60,
                "total_customers": 8000,
                "total_products": 1500,
                "customers_per_day": 300,
                "online_orders_per_day": 800,
                "marketing_impressions_per_day": 5000,
            },
            "historical": {"start_date": START.isoformat()},
        }
    ).with_data_dir(root)


def _history(template: Path, stores: int) -> None:
    cfg = _config(template, stores)
    MasterDataGenerator(cfg).generate_all_master_data()
    FactDataGenerator(cfg, workers=1).generate_historical_data(START, FIRST - timedelta(days=1))


def _first_day(root: Path, cfg: RetailConfig) -> DayEvents:
    history = History.open(str(root))
    sim = Simulation(cfg, history.dimensions(), START, history.disruptions())
    tables, _ = sim.run_day(FIRST, history.carry())
    return DayEvents.plan(FIRST, tables, tables["fact_online_orders"])


def bench_envelopes(day: DayEvents) -> dict[str, Any]:
    """Segments and release chunks of the sizes the streamer uses (SEGMENT_EVENTS, 1024)."""
    best = 0.0
    for _ in range(3):
        began = time.perf_counter()
        built = 0
        for start in range(0, len(day), SEGMENT_EVENTS):
            segment = day.segment(start, min(start + SEGMENT_EVENTS, len(day)))
            for i in range(0, len(segment), RELEASE_CHUNK):
                built += len(
                    segment.events(i, min(i + RELEASE_CHUNK, len(segment)), ingest_stamp())
                )
        best = max(best, built / (time.perf_counter() - began))
    return {"events": len(day), "envelopes_per_second": round(best)}


async def _run_for(streamer: EventStreamer, seconds: float) -> dict[str, Any]:
    task = asyncio.create_task(streamer.start())
    began = time.monotonic()
    await asyncio.sleep(seconds)
    await streamer.stop()
    await task
    stats = streamer.statistics()
    stats["wall_seconds"] = time.monotonic() - began
    return stats


def bench_realtime(
    root: Path, cfg: RetailConfig, day: DayEvents, rate: float, seconds: float
) -> dict[str, Any]:
    noon = datetime.combine(FIRST, datetime.min.time()) + timedelta(hours=12)
    window = (day.time_us >= sim_micros(noon)) & (
        day.time_us < sim_micros(noon + timedelta(hours=2))
    )
    per_sim_second = float(np.count_nonzero(window)) / 7200.0
    speed = rate / per_sim_second
    out = root.parent / "realtime.jsonl"
    streamer = EventStreamer(cfg, sink=f"file://{out}", speed=speed, anchor=noon)
    stats = asyncio.run(_run_for(streamer, seconds))
    pacing = stats["pacing"]
    lateness = pacing["lateness"]
    live = lateness["events"]
    return {
        "speed": round(speed, 1),
        "target_rate": rate,
        "live_events": live,
        "live_rate": round(live / stats["wall_seconds"], 1),
        "backlog_events": lateness["backlog_events"],
        "lateness_p50_ms": lateness["p50_ms"],
        "lateness_p99_ms": lateness["p99_ms"],
        "lateness_max_ms": lateness["max_ms"],
        "events_sent": stats["events_sent"],
        "dlq_size": stats["dlq_size"],
    }


def bench_unthrottled(root: Path, cfg: RetailConfig, seconds: float) -> dict[str, Any]:
    out = root.parent / "unthrottled.jsonl"
    streamer = EventStreamer(cfg, sink=f"file://{out}", rate=float("inf"))
    stats = asyncio.run(_run_for(streamer, seconds))
    return {
        "events_sent": stats["events_sent"],
        "events_per_second": round(stats["events_sent"] / stats["wall_seconds"]),
        "days_persisted": stats["days_persisted"],
        "bytes_per_event": round(stats["bytes_sent"] / max(1, stats["events_sent"])),
        "file_mb": round(out.stat().st_size / 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--stores", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-realtime-") as tmp:
        template = Path(tmp) / "template" / "data"
        _history(template, args.stores)
        results: dict[str, Any] = {"python": platform.python_version(), "stores": args.stores}
        root = Path(tmp) / "rt" / "data"
        shutil.copytree(template, root)
        cfg = _config(root, args.stores)
        day = _first_day(root, cfg)
        results["envelopes"] = bench_envelopes(day)
        results["realtime"] = bench_realtime(root, cfg, day, args.rate, args.seconds)
        root = Path(tmp) / "fast" / "data"
        shutil.copytree(template, root)
        results["unthrottled"] = bench_unthrottled(root, _config(root, args.stores), args.seconds)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
