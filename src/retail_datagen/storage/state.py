"""Continuation state of a data folder (SPEC §8) and the one safe way to clear a data folder.

``generation_state.json`` records where the generated history ends, so the next historical run
(or the streamer) continues exactly after it. It is always written atomically.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from retail_datagen.errors import DataStateError, UserError
from retail_datagen.storage.atomic import atomic_write_text
from retail_datagen.storage.layout import DataLayout

__all__ = ["GenerationState", "GenerationStateManager", "OutputFormat"]

OutputFormat = Literal["parquet", "csv", "delta"]

_FACT_FIELDS: dict[str, Any] = {
    "last_generated_timestamp": None,
    "historical_start_date": None,
    "has_fact_data": False,
    "last_historical_run": None,
    "last_realtime_run": None,
    "output_url": None,  # cleared facts: the next run writes where it is told
}


class GenerationState(BaseModel):
    """What has been generated so far. Unknown keys are kept so newer files round-trip."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    last_generated_timestamp: datetime | None = None
    historical_start_date: datetime | None = None
    has_fact_data: bool = False
    last_historical_run: datetime | None = None
    last_realtime_run: datetime | None = None
    output_format: OutputFormat = "parquet"
    csv_daily: bool = False
    # where the fact tables are when not in <data>/export (an Azure URL, without secrets)
    output_url: str | None = None

    @property
    def has_history(self) -> bool:
        """Facts exist and where they end is known: the next run continues after them."""
        return self.has_fact_data and self.last_generated_timestamp is not None

    def continued_output(
        self, fmt: str | None = None, csv_daily: bool | None = None
    ) -> tuple[str, bool]:
        """The output of the next fact run: what was asked for, else the stored facts' own format
        (a folder holds one format), else Parquet. ``None`` means "not asked"."""
        if fmt is None:
            fmt = self.output_format if self.has_history else "parquet"
        if csv_daily is None:
            csv_daily = self.csv_daily if self.has_history else False
        return fmt, csv_daily


class GenerationStateManager:
    """Load, save and reset ``<data_dir>/generation_state.json``; clear a data folder safely."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.layout = DataLayout.of(data_dir if data_dir is not None else "data")

    @property
    def state_path(self) -> Path:
        return self.layout.state_path

    def load(self) -> GenerationState:
        """The saved state, or a fresh one when none was saved yet."""
        path = self.state_path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return GenerationState()
        except OSError as exc:
            raise DataStateError(f"cannot read {path}: {exc.strerror}") from None
        try:
            return GenerationState.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "file"
            raise DataStateError(
                f"{path} is damaged ({where}: {first['msg']}); "
                "run `retail-datagen repair` to rebuild it from the fact files"
            ) from None

    def save(self, state: GenerationState) -> None:
        """Write the state atomically (a crash keeps the previous file intact)."""
        text = json.dumps(state.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"
        atomic_write_text(self.state_path, text)

    def update(self, **fields: Any) -> GenerationState:
        """Validate and save a changed copy of the current state; return it."""
        merged = {**self.load().model_dump(), **fields}
        try:
            state = GenerationState.model_validate(merged)
        except ValidationError as exc:
            raise ValueError(f"invalid generation state fields: {exc}") from None
        self.save(state)
        return state

    def reset_facts(self) -> GenerationState:
        """Forget every fact run (after facts were removed); output preferences are kept."""
        if not self.state_path.exists():
            return GenerationState()
        return self.update(**_FACT_FIELDS)

    def mark_historical_run(self, last_generated: datetime, start: datetime) -> GenerationState:
        """Record a finished historical run that generated data up to ``last_generated``."""
        current = self.load()
        return self.update(
            last_generated_timestamp=last_generated,
            historical_start_date=current.historical_start_date or start,
            has_fact_data=True,
            last_historical_run=datetime.now(UTC).replace(tzinfo=None),
        )

    # ------------------------------------------------------------------ clearing
    def clear_all_data(self, paths: dict[str, str] | None = None) -> dict[str, Any]:
        """Delete what retail-datagen created in the data folder, and nothing else.

        Removes ``retail.duckdb`` (+ ``.wal``), ``export/``, ``engine_state/`` and
        ``generation_state.json``. ``paths`` may name legacy folders (the seeds pass
        ``{"master": "data/master", "facts": "data/facts"}``); each must resolve inside the data
        folder or the current project folder, otherwise a :class:`UserError` is raised before
        anything is deleted. Dictionaries and other user files are never touched.
        """
        layout = self.layout
        legacy = [self._checked_legacy_path(key, value) for key, value in (paths or {}).items()]
        targets = [
            layout.duckdb_path,
            layout.wal_of(layout.duckdb_path),
            layout.export_dir,
            layout.engine_state_dir,
            layout.state_path,
            layout.checkpoint_path,  # where a stream stopped
            layout.streaming_db_path,  # dead letters
            layout.wal_of(layout.streaming_db_path),
            *legacy,
        ]
        removed: list[str] = []
        for target in targets:
            if _remove_inside(target, layout, allow_outside_root=target in legacy):
                removed.append(str(target))
        return {"data_dir": str(layout.root), "removed": removed}

    def _checked_legacy_path(self, key: str, value: str) -> Path:
        raw = Path(value).expanduser()
        project = Path.cwd().resolve()
        resolved = (raw if raw.is_absolute() else project / raw).resolve()
        root = self.layout.root
        inside_data = _is_strictly_inside(resolved, root)
        inside_project = (
            _is_strictly_inside(resolved, project)
            and project not in (Path(project.anchor), Path.home().resolve())
            and not _is_inside(root, resolved)  # never an ancestor of the data folder
        )
        if not (inside_data or inside_project):
            raise UserError(
                f"refusing to clear paths.{key} = {value!r}: it resolves to {resolved}, "
                f"outside the data folder {root} and the project folder {project}"
            )
        return resolved


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _is_strictly_inside(path: Path, folder: Path) -> bool:
    return path != folder and _is_inside(path, folder)


def _remove_inside(target: Path, layout: DataLayout, *, allow_outside_root: bool) -> bool:
    """Remove one file or folder; a symlink is unlinked itself, never followed."""
    if target.is_symlink():
        target.unlink()
        return True
    if not target.exists():
        return False
    if not allow_outside_root and not layout.owns(target):
        raise UserError(f"refusing to delete {target}: it is outside the data folder {layout.root}")
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink()
    return True
