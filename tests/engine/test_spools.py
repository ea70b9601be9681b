"""Spool folders of killed runs are removed when the next run starts; others' are left alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from retail_datagen.engine import local
from retail_datagen.engine.local import SPOOL_PREFIX


def _spool_base() -> Path:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


def test_a_new_run_removes_the_spools_of_dead_runs_only() -> None:
    killed = subprocess.Popen(["sleep", "0"])
    killed.wait()
    base = _spool_base()
    dead = Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{killed.pid}-", dir=base))
    (dead / "1_0_fact_receipts.arrow").write_bytes(b"left by a killed run")
    alive = Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getppid()}-", dir=base))
    foreign = Path(tempfile.mkdtemp(prefix="someone-else-", dir=base))
    fresh = Path(local._spool_dir())
    try:
        assert not dead.exists()
        assert alive.is_dir() and foreign.is_dir()
        assert fresh.name.startswith(f"{SPOOL_PREFIX}{os.getpid()}-")
    finally:
        for path in (dead, alive, foreign, fresh):
            shutil.rmtree(path, ignore_errors=True)
