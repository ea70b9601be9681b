"""Live streaming: ``stream`` continues the history as events to a sink (Ctrl-C stops
gracefully), ``dead-letters`` and ``replay-dead-letters`` list and resend the persistent
dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from retail_datagen.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    ConfigOption,
    DataDirOption,
    cli_errors,
    data_root,
    load_config,
    stderr,
    stdout,
)
from retail_datagen.config.secrets import redact
from retail_datagen.dates import parse_time

if TYPE_CHECKING:
    from rich.console import Console

    from retail_datagen.config.models import RetailConfig
    from retail_datagen.streaming.event_streamer import EventStreamer

__all__ = ["dead_letters", "replay_dead_letters", "stream"]


def _status_line(stats: dict[str, Any]) -> str:
    sim = stats.get("simulated_time") or "-"
    return (
        f"{stats.get('mode', '')} {stats.get('events_per_second', 0):,.0f} ev/s · "
        f"sent {stats.get('events_sent', 0):,} · failed {stats.get('events_failed', 0):,} · "
        f"DLQ {stats.get('dlq_size', 0):,} · sim {sim[:19]} · circuit "
        f"{stats.get('circuit_state', '-')}"
    )


def _print_summary(console: Console, stats: dict[str, Any]) -> None:
    from rich.table import Table as RichTable

    table = RichTable(title="Stream summary", title_justify="left")
    table.add_column("event type")
    table.add_column("sent", justify="right")
    table.add_column("dead-lettered", justify="right")
    dead = stats.get("dead_lettered_by_type", {})
    sent = stats.get("sent_by_type", {})
    for name in sorted(set(sent) | set(dead)):
        table.add_row(name, f"{sent.get(name, 0):,}", f"{dead.get(name, 0):,}")
    table.add_row(
        "total", f"{stats.get('events_sent', 0):,}", f"{sum(dead.values()):,}", style="bold"
    )
    console.print(table)
    position = stats.get("day_position") or {}
    console.print(
        f"watermark {stats.get('watermark')} · day {stats.get('current_day')} at "
        f"{position.get('settled', 0):,}/{position.get('total', 0):,} · "
        f"{stats.get('days_persisted', 0)} day(s) persisted · "
        f"{stats.get('bytes_sent', 0):,} bytes in {stats.get('batches_sent', 0):,} batches · "
        f"retries {stats.get('retries', 0)} · DLQ {stats.get('dlq_size', 0)} · "
        f"streamed {stats.get('streamed_seconds', 0):.1f} s "
        f"(ran {stats.get('wall_seconds', 0):.1f} s)"
    )


def _report_problems(
    console: Console, streamer: EventStreamer, stats: dict[str, Any], sink: str
) -> bool:
    """Say what went wrong with the sink, one line each; True when nothing did."""
    ok = True
    dead = sum(stats.get("dead_lettered_by_type", {}).values())
    if dead:
        ok = False
        console.print(
            f"{dead:,} events were dead-lettered (the sink rejected them); resend them with "
            f"`retail-datagen replay-dead-letters --sink {redact(sink)}` "
            "(`retail-datagen dead-letters` lists them)"
        )
    if streamer.unsent and stats.get("sink_failing"):
        ok = False
        console.print(
            f"the sink stopped answering: {streamer.unsent:,} events were not delivered; "
            "the position is checkpointed before them, so the next `stream` sends them"
        )
    return ok


async def _run_stream(streamer: EventStreamer, console: Console, interval: float) -> bool:
    """Run the streamer with a status display; True when stopped by a signal."""
    loop = asyncio.get_running_loop()
    interrupted = False
    stopping: list[asyncio.Task[None]] = []  # a reference keeps the stop task alive

    def on_signal() -> None:
        nonlocal interrupted
        if interrupted:  # a second Ctrl-C: stop waiting for the graceful stop
            raise KeyboardInterrupt
        interrupted = True
        console.print("stopping: flushing buffered events and checkpointing…")
        stopping.append(loop.create_task(streamer.stop()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal)
    task = asyncio.create_task(streamer.start())
    tty = console.is_terminal
    try:
        if tty:
            with console.status("starting…") as status:
                while not task.done():
                    await asyncio.wait({task}, timeout=min(interval, 1.0))
                    if streamer.running:
                        status.update(_status_line(streamer.statistics()))
        else:
            while not task.done():
                await asyncio.wait({task}, timeout=interval)
                if not task.done() and streamer.running:
                    console.print(_status_line(streamer.statistics()))
        await task
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return interrupted


@cli_errors
def stream(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    sink: Annotated[
        str,
        typer.Option(
            "--sink",
            "-s",
            metavar="SINK",
            help="stdout | file:stream/events.jsonl (under the data folder's stream/) | "
            "file:///outside/events.jsonl | kafka://host:port/topic | eventhub[://hub] "
            "(see docs/STREAMING.md).",
        ),
    ] = "stdout",
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration",
            metavar="S",
            help="Stop S seconds after events start to flow, whatever the sink does "
            "(default: run until Ctrl-C).",
            show_default=False,
        ),
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option(
            "--speed",
            metavar="X",
            help="Real-time mode: events leave when due "
            "on a simulated clock running X times as fast as the wall clock.",
            show_default=False,
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            metavar="EPS",
            help="Rate mode: EPS events per second (inf = as fast as the sink accepts).",
            show_default=False,
        ),
    ] = None,
    burst: Annotated[
        int | None,
        typer.Option(
            "--burst",
            metavar="N",
            min=1,
            help="Burst mode: N events every --interval-ms (default mode, from realtime.burst).",
            show_default=False,
        ),
    ] = None,
    interval_ms: Annotated[
        int | None,
        typer.Option(
            "--interval-ms",
            metavar="MS",
            min=1,
            help="Burst interval (default: realtime.emit_interval_ms).",
            show_default=False,
        ),
    ] = None,
    events: Annotated[
        str | None,
        typer.Option(
            "--events",
            metavar="TYPE,TYPE",
            help="Send only these event types (every fact is still persisted).",
            show_default=False,
        ),
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="now|WATERMARK",
            help="now: start at the present, in real time, without persisting "
            "(the history stays where it ends). A timestamp must equal the stored "
            "watermark (a safety check; streaming continues after it).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Continue the history live as events; streamed days are persisted as facts.

    Pacing: --speed (real time), --rate (events/s) or --burst/--interval-ms (the default).

    The sink is contacted first: one that does not answer within 5 s stops the command
    (exit 1) before anything is generated. Ctrl-C stops gracefully (flush, checkpoint); the
    next `stream` resumes without gaps. Exit 1 also when events were dead-lettered or the
    sink stopped answering.
    """
    from rich.console import Console

    from retail_datagen.streaming.event_streamer import EventStreamer
    from retail_datagen.streaming.sinks import SinkUnreachableError

    cfg = load_config(config, data_dir)
    chosen = [t for t in events.split(",")] if events is not None else None
    now = from_ is not None and from_.strip().lower() == "now"
    watermark = parse_time(from_, "--from") if from_ is not None and not now else None
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    streamer = EventStreamer(
        cfg,
        sink=sink,
        event_types=chosen,
        speed=speed,
        rate=rate,
        burst=burst,
        interval_ms=interval_ms,
        duration=duration,
        from_watermark=watermark,
        from_now=now,
        notify=lambda text: console.print(f"note: {text}"),
    )
    interval = float(cfg.realtime.monitoring_interval)
    try:
        interrupted = asyncio.run(_run_stream(streamer, console, interval))
    except SinkUnreachableError as exc:
        typer.echo(f"error: {exc}; nothing was streamed", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    stats = streamer.statistics()
    _print_summary(console, stats)
    if interrupted:
        console.print("stopped; the position is checkpointed (run `stream` to resume)")
        raise typer.Exit(EXIT_INTERRUPTED)
    if not _report_problems(console, streamer, stats, sink):
        raise typer.Exit(EXIT_FAILED)


@cli_errors
def dead_letters(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most N.")] = 20,
    event_type: Annotated[
        str | None,
        typer.Option(
            "--event-type", metavar="TYPE", help="Only this event type.", show_default=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """List events that could not be delivered (the persistent dead-letter queue)."""
    from retail_datagen.streaming.dead_letters import DeadLetterStore

    cfg = load_config(config, data_dir)
    store = DeadLetterStore(data_root(cfg))
    entries = store.list(limit=limit, event_type=event_type)
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(entry))
        return
    out = stdout()
    if not entries:
        out.print("no dead letters")
        return
    from rich.table import Table as RichTable

    table = RichTable(title=f"Dead letters ({store.count()} total, oldest first)")
    for column in ("id", "event type", "trace id", "failed at", "attempts", "error"):
        table.add_column(column)
    for entry in entries:
        table.add_row(
            str(entry["id"]),
            entry["event_type"],
            entry["trace_id"],
            str(entry["failed_at"]),
            str(entry["attempts"]),
            str(entry["error"]),
        )
    out.print(table)


@cli_errors
def replay_dead_letters(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    sink: Annotated[
        str,
        typer.Option(
            "--sink",
            "-s",
            metavar="SINK",
            help="Where to resend them (as for stream; a file only under the data "
            "folder's stream/ or outside it).",
        ),
    ] = "stdout",
) -> None:
    """Resend every dead letter to SINK, oldest first; delivered ones leave the queue."""
    cfg = load_config(config, data_dir)
    replayed, failed, name = asyncio.run(_replay(cfg, sink))
    stderr().print(f"replayed {replayed} dead letter(s) to {name}; {failed} remain")
    if failed:
        raise typer.Exit(EXIT_FAILED)


async def _replay(cfg: RetailConfig, sink_url: str) -> tuple[int, int, str]:
    from retail_datagen.storage.layout import DataLayout
    from retail_datagen.streaming.dead_letters import DeadLetterStore
    from retail_datagen.streaming.sinks import open_sink

    root = DataLayout.of(cfg.paths.data).root
    sink = open_sink(sink_url, cfg, data_dir=root)
    await sink.open()
    try:
        result = await DeadLetterStore(root).replay(sink)
    finally:
        await sink.close()
    return result.replayed, result.failed, sink.name
