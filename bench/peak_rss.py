"""Peak memory of a command and all its child processes (e.g. generation workers).

Usage: python bench/peak_rss.py -- retail-datagen validate --data-dir /tmp/rd28

Samples the resident set size of the process tree every 50 ms and prints the command's wall
time, the peak of the largest single process and the peak of the whole tree's sum. Target
(issue 9): every command ≤ 1.5 GB on 28 default days. For ``generate`` it also prints the peak
size of the spool folder in /dev/shm (results computed ahead of the writer): that memory is
shared memory, not in any process's RSS until the writer reads it.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import time

import psutil


def _tree_rss(root: psutil.Process) -> tuple[int, int]:
    """(largest single RSS, sum of RSS) over ``root`` and its descendants, in bytes."""
    sizes: list[int] = []
    for process in [root, *root.children(recursive=True)]:
        try:
            sizes.append(process.memory_info().rss)
        except psutil.Error:  # ended between listing and sampling
            continue
    return (max(sizes), sum(sizes)) if sizes else (0, 0)


def _spool_bytes(pid: int) -> int:
    """Bytes in the spool folders of process ``pid`` (see ``engine.local.SPOOL_PREFIX``)."""
    total = 0
    for path in glob.glob(f"/dev/shm/retail-datagen-spool-{pid}-*/*"):
        try:
            total += os.stat(path).st_size
        except OSError:  # delivered and removed meanwhile
            continue
    return total


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        raise SystemExit("usage: python bench/peak_rss.py -- COMMAND [ARGS...]")
    began = time.monotonic()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    root = psutil.Process(child.pid)
    single = total = spool = 0
    while child.poll() is None:
        try:
            one, whole = _tree_rss(root)
        except psutil.Error:
            break
        single, total = max(single, one), max(total, whole)
        spool = max(spool, _spool_bytes(child.pid))
        time.sleep(0.05)
    code = child.wait()
    mib = 1024 * 1024
    print(
        f"exit {code}  wall {time.monotonic() - began:.1f} s  "
        f"peak RSS: largest process {single / mib:.0f} MiB, process tree {total / mib:.0f} MiB"
        + (f"  spool {spool / mib:.0f} MiB" if spool else "")
    )


if __name__ == "__main__":
    main()
