"""The stream position file: atomic, round-trips, and only resumes the day it belongs to."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from retail_datagen.errors import DataStateError
from retail_datagen.streaming.checkpoint import CHECKPOINT_FILE, Checkpoint, CheckpointStore


def test_checkpoint_round_trips(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    assert store.load() is None
    saved = Checkpoint(
        date(2024, 3, 3),
        1234,
        total=17_000,
        updated_at=datetime(2026, 1, 1, 12),
        event_types=("receipt_created",),
    )
    store.save(saved)
    assert store.load() == saved
    assert (tmp_path / CHECKPOINT_FILE).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name != CHECKPOINT_FILE]  # no temp files


def test_resume_position_belongs_to_the_next_unpersisted_day_only(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    assert store.resume_position(date(2024, 3, 3)) == 0
    store.save(Checkpoint(date(2024, 3, 3), 500))
    assert store.resume_position(date(2024, 3, 3)) == 500
    # the day was persisted after the checkpoint was written (crash in between): start fresh
    assert store.resume_position(date(2024, 3, 4)) == 0
    store.clear()
    assert store.load() is None


def test_damaged_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / CHECKPOINT_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(DataStateError, match=r"damaged.*delete it"):
        CheckpointStore(tmp_path).load()


def test_a_checkpoint_of_another_history_is_ignored(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.save(Checkpoint(date(2024, 3, 3), 700, history="seed=5;run=A"))
    assert store.resume_position(date(2024, 3, 3), "seed=5;run=A") == 700
    assert store.resume_position(date(2024, 3, 3), "seed=5;run=B") == 0  # cleared, regenerated
