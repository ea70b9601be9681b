"""A fixed seed's data, byte for byte: refactors must not change what a seed produces."""

from __future__ import annotations

import json
from pathlib import Path

from golden.chain import DIGESTS, golden_digests


def test_the_golden_chain_digests_as_pinned(tmp_path: Path) -> None:
    pinned = json.loads(DIGESTS.read_text())
    got = golden_digests(tmp_path)
    changed = sorted(name for name in pinned if got.get(name) != pinned[name])
    assert not changed, (
        f"the data of a fixed seed changed in {changed}; if intended, run "
        "`python tests/golden/chain.py --update` and say so in the README changelog"
    )
    assert set(got) == set(pinned)


def test_the_digest_command_prints_the_digest_of_each_table(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from retail_datagen.cli import app

    got = golden_digests(tmp_path)
    result = CliRunner().invoke(
        app,
        [
            "digest",
            "--data-dir",
            str(tmp_path),
            "--table",
            "fact_receipts",
            "--table",
            "dim_stores",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = dict(line.split() for line in result.stdout.splitlines())
    assert lines == {"fact_receipts": got["fact_receipts"], "dim_stores": got["dim_stores"]}
    bad = CliRunner().invoke(app, ["digest", "--data-dir", str(tmp_path), "--table", "nope"])
    assert bad.exit_code == 2 and "unknown table 'nope'" in bad.stderr
