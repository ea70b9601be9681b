"""Benchmark: one data folder used by many at once — server previews, `status`, a notebook.

Usage: python bench/concurrency.py [--config scripts/ci-config.json] [--days 6] [--rounds 10]

Builds a data folder (dimensions and 2 days), starts `retail-datagen serve` on a free loopback
port, then measures preview requests at concurrency 20 twice: idle, and while a real
`retail-datagen generate` process appends ``--days`` days. During the generation,
`retail-datagen status` runs in a loop and another process holds the README's read-only
`duckdb.connect(..., read_only=True)` and queries it. Prints the error counts and the preview
latency p50/p99 per phase (JSON with --json). Targets: 0 errors, p99 ≤ 500 ms.

The test suite imports this module (tests/storage/test_concurrent_access.py) for the same
harness with a smaller run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "retail_datagen"]
PREVIEW_TABLES = ("fact_receipts", "fact_receipt_lines", "fact_foot_traffic", "dim_stores")
CONCURRENCY = 20
NOTEBOOK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
queries = errors = 0
print("ready", flush=True)
while sys.stdin.readline().strip() == "query":
    try:
        con.execute("SELECT count(*), sum(Total) FROM fact_receipts").fetchall()
        con.execute("SELECT count(*) FROM dim_customers").fetchall()
        queries += 1
    except Exception as exc:
        errors += 1
        print("error:", str(exc).splitlines()[0], file=sys.stderr, flush=True)
    print(queries, errors, flush=True)
"""


@dataclass
class Phase:
    """What one phase saw: preview latencies (ms) and every error as one line."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    status_runs: int = 0
    notebook_queries: int = 0

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)

        def pct(q: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0

        requests = len(self.latencies_ms) + sum(e.startswith("preview") for e in self.errors)
        return {
            "requests": requests,
            "errors": len(self.errors),
            "error_rate": round(len(self.errors) / max(1, requests), 4),
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(ordered), 1) if ordered else 0,
            "status_runs": self.status_runs,
            "notebook_queries": self.notebook_queries,
            "first_errors": self.errors[:5],
        }


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``retail-datagen ARGS`` in a subprocess."""
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, env=_env(), timeout=900)
    if check and done.returncode != 0:
        raise RuntimeError(f"retail-datagen {' '.join(args)} failed: {done.stderr.strip()}")
    return done


def prepare(config: Path, data_dir: Path, days: int = 2) -> None:
    """Dimensions and ``days`` days of facts, as a user would make them."""
    cli("generate", "--config", str(config), "--data-dir", str(data_dir), "--days", str(days))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(config: Path, data_dir: Path) -> Iterator[str]:
    """`retail-datagen serve` on a free loopback port; yields its base URL, stops it after."""
    port = _free_port()
    with tempfile.TemporaryFile() as log:
        where = ["--config", str(config), "--data-dir", str(data_dir)]
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), *where],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_env(),
        )
        try:
            yield _wait_ready(process, f"http://127.0.0.1:{port}", log)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Any) -> str:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise RuntimeError(f"the server did not start: {log.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return url
        except httpx.HTTPError:
            time.sleep(0.2)


def preview_round(client: httpx.Client, url: str, phase: Phase, pool: ThreadPoolExecutor) -> None:
    """``CONCURRENCY`` preview requests at once over the tables in turn."""

    def one(index: int) -> None:
        table = PREVIEW_TABLES[index % len(PREVIEW_TABLES)]
        began = time.perf_counter()
        try:
            response = client.get(f"{url}/api/tables/{table}/preview", params={"limit": 50})
        except httpx.HTTPError as exc:
            phase.errors.append(f"preview {table}: {type(exc).__name__} {exc}")
            return
        took = (time.perf_counter() - began) * 1000
        if response.status_code != 200:
            phase.errors.append(f"preview {table}: {response.status_code} {response.text[:200]}")
        else:
            phase.latencies_ms.append(took)

    list(pool.map(one, range(CONCURRENCY)))


def _status_loop(config: Path, data_dir: Path, phase: Phase, stop: threading.Event) -> None:
    while not stop.is_set():
        done = cli("status", "--config", str(config), "--data-dir", str(data_dir), check=False)
        phase.status_runs += 1
        if done.returncode != 0:
            phase.errors.append(f"status: exit {done.returncode}: {done.stderr.strip()[:300]}")


@contextmanager
def notebook(data_dir: Path, phase: Phase) -> Iterator[subprocess.Popen[str]]:
    """Another process holding a read-only connection to retail.duckdb (the README snippet)."""
    process = subprocess.Popen(
        [sys.executable, "-c", NOTEBOOK, str(data_dir / "retail.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert process.stdin is not None and process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError(f"the notebook process did not start: {process.communicate()[1]}")
    try:
        yield process
    finally:
        process.stdin.close()  # the loop ends at end of input
        assert process.stderr is not None
        err = process.stderr.read()
        process.wait(30)
        phase.errors += [f"notebook: {line}" for line in err.splitlines() if line]


def _ask_notebook(process: subprocess.Popen[str], phase: Phase) -> None:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("query\n")
    process.stdin.flush()
    queries, _errors = process.stdout.readline().split()
    phase.notebook_queries = int(queries)


def measure_idle(url: str, rounds: int) -> Phase:
    phase = Phase()
    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(CONCURRENCY) as pool:
        for _ in range(rounds):
            preview_round(client, url, phase, pool)
    return phase


def measure_during_generation(
    url: str, config: Path, data_dir: Path, days: int, min_rounds: int = 3
) -> tuple[Phase, subprocess.CompletedProcess[str]]:
    """Previews, `status` in a loop and the notebook's queries while `generate` adds ``days``."""
    phase = Phase()
    stop = threading.Event()
    where = ["--config", str(config), "--data-dir", str(data_dir)]
    generate = subprocess.Popen(
        [*CLI, "generate", *where, "--days", str(days), "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    status = threading.Thread(target=_status_loop, args=(config, data_dir, phase, stop))
    status.start()
    rounds = 0
    try:
        with (
            notebook(data_dir, phase) as nb,
            httpx.Client(timeout=60) as client,
            ThreadPoolExecutor(CONCURRENCY) as pool,
        ):
            while generate.poll() is None or rounds < min_rounds:
                preview_round(client, url, phase, pool)
                _ask_notebook(nb, phase)
                rounds += 1
    finally:
        stop.set()
        status.join()
        out, err = generate.communicate()
    return phase, subprocess.CompletedProcess(generate.args, generate.returncode, out, err)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=REPO / "scripts" / "ci-config.json")
    parser.add_argument("--days", type=int, default=6, help="days generated during the run")
    parser.add_argument("--rounds", type=int, default=10, help="idle rounds of 20 requests")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    try:
        data_dir = work / "data"
        prepare(args.config, data_dir)
        with server(args.config, data_dir) as url:
            idle = measure_idle(url, args.rounds)
            busy, generate = measure_during_generation(url, args.config, data_dir, args.days)
        result = {
            "idle": idle.summary(),
            "during_generation": busy.summary(),
            "generate_exit": generate.returncode,
            "generate_warnings": [
                ln for ln in generate.stderr.splitlines() if "warning" in ln.lower()
            ],
        }
        if args.json:
            print(json.dumps(result, indent=2))
            return
        for name in ("idle", "during_generation"):
            s = result[name]
            assert isinstance(s, dict)
            print(
                f"{name:18} requests {s['requests']:5}  errors {s['errors']:3} "
                f"({s['error_rate']:.1%})  p50 {s['p50_ms']:7.1f} ms  p99 {s['p99_ms']:7.1f} ms  "
                f"status runs {s['status_runs']:3}  notebook queries {s['notebook_queries']}"
            )
        print(f"generate exit {generate.returncode}; {result['generate_warnings']}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
