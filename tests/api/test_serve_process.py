"""``retail-datagen serve`` as a real process: it answers only its own hosts, says once (INFO)
where it listens, logs a failing request's traceback once, and reports a busy port in one
line with exit 2."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

# the server process with one route made to fail (fault injection), then the normal CLI
FAILING_METRICS = """
import sys
from retail_datagen.api.services import metrics

def render(self):
    raise RuntimeError("injected failure")

metrics.Metrics.render = render
from retail_datagen.main import main
main(sys.argv[1:])
"""


SERVE = [sys.executable, "-m", "retail_datagen.main"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env() -> dict[str, str]:
    drop = ("RETAIL_DATAGEN_API_TOKEN", "RETAIL_DATAGEN_ALLOWED_HOSTS", "RETAIL_DATAGEN_HOST")
    return {k: v for k, v in os.environ.items() if k not in drop}


def _wait_until_up(process: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {process.communicate()[1]}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not start within 60 s")


def test_a_real_server_answers_its_hosts_and_logs_each_thing_once(
    tmp_path: Path, tiny: dict[str, object]
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tiny), encoding="utf-8")
    port = _free_port()
    args = ["--port", str(port), "--config", str(config), "--data-dir", str(tmp_path / "d")]
    process = subprocess.Popen(
        [sys.executable, "-c", FAILING_METRICS, *args, "--allowed-host", "retail.test"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(process, f"{base}/health")
        for host, expected in (
            (f"127.0.0.1:{port}", 200),
            (f"localhost:{port}", 200),
            ("retail.test", 200),
            (f"evil.example:{port}", 400),
        ):
            response = httpx.get(f"{base}/api/tables", headers={"Host": host}, timeout=10)
            assert response.status_code == expected, (host, response.text)
        refused = httpx.post(
            f"{base}/api/config/reset", headers={"Origin": "http://evil.example"}, timeout=10
        )
        assert refused.status_code == 403
        assert httpx.get(f"{base}/metrics", timeout=10).status_code == 500
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    lines = stderr.splitlines()
    startup = [line for line in lines if f"http://127.0.0.1:{port}" in line]
    assert startup == [
        f"INFO retail_datagen.api: serving http://127.0.0.1:{port} "
        "(loopback only; no API token needed)"
    ], stderr
    assert not [line for line in lines if line.startswith("WARNING")], stderr
    assert stderr.count("Traceback (most recent call last)") == 1, stderr
    assert lines.count("RuntimeError: injected failure") == 1, stderr  # the traceback's end


def test_serve_on_a_busy_port_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [*SERVE, "--port", str(port), "--data-dir", str(tmp_path / "data")],
            capture_output=True,
            text=True,
            timeout=120,
            env=_env(),
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"error: port {port} on 127.0.0.1 is in use; choose another with --port\n"
    )
