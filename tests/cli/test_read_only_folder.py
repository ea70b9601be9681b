"""`status` and `validate` on a read-only copy of a data folder (issue 9, item 5).

Tests run as root, and root ignores write bits, so the commands run under ``setpriv`` without
the capabilities that override file permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): the
``chmod -R a-w`` copy is then really read-only for them, as for any user. Old code opened
retail.duckdb read-write (rebuilding views) and failed here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.volumes import tiny_config

SETPRIV = shutil.which("setpriv")
WITHOUT_OVERRIDE = [
    "--inh-caps=-all",
    "--bounding-set=-dac_override,-dac_read_search",
    "--",
]


def _cli(*args: str, read_only: bool = False) -> subprocess.CompletedProcess[str]:
    prefix = [SETPRIV or "setpriv", *WITHOUT_OVERRIDE] if read_only else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "retail_datagen", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


@pytest.mark.skipif(SETPRIV is None, reason="needs util-linux setpriv")
def test_status_and_validate_work_on_a_read_only_copy(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tiny_config()), encoding="utf-8")
    source = tmp_path / "data"
    made = _cli("generate", "--config", str(config), "--data-dir", str(source), "--days", "2")
    assert made.returncode == 0, made.stderr
    copy = tmp_path / "copy"
    shutil.copytree(source, copy)
    subprocess.run(["chmod", "-R", "a-w", str(copy)], check=True)
    try:
        probe = _cli("generate", "--config", str(config), "--data-dir", str(copy), read_only=True)
        assert probe.returncode != 0  # the copy really is read-only for these processes
        before = _snapshot(copy)
        status = _cli("status", "--json", "--data-dir", str(copy), read_only=True)
        assert status.returncode == 0, status.stderr
        rows = {t["name"]: t["rows"] for t in json.loads(status.stdout)["tables"]}
        assert rows["fact_receipts"] and rows["dim_stores"] == 4
        checked = _cli("validate", "--data-dir", str(copy), read_only=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "PASSED" in checked.stdout
        assert _snapshot(copy) == before
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(copy)], check=True)
