"""The server's configuration: load once, validate edits, persist atomically, never leak secrets.

The server owns one data folder for its life (``--data-dir`` or the configuration's
``paths.data`` at start-up); the effective configuration always points there. Edits are saved to
the file the server was started with, or ``<data>/config.json``.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails

from retail_datagen.api.settings import ServerSettings
from retail_datagen.config.models import RetailConfig, format_validation_error
from retail_datagen.config.secrets import MASK  # also what GET shows for a set secret
from retail_datagen.errors import ConfigError
from retail_datagen.storage.atomic import atomic_write_text
from retail_datagen.storage.layout import DataLayout

__all__ = ["MASK", "ConfigService", "FieldProblem"]

SECRET_FILE_MODE = 0o600
_SOURCE = "config"
_LEADING_KEY = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\b")


class FieldProblem(dict[str, str]):
    """``{"key": "volume.stores", "message": "volume.stores = 0: ..."}`` (JSON-ready)."""


def _single(exc: ValidationError, err: ErrorDetails) -> ValidationError:
    """A ValidationError holding just ``err`` (so the library formatter words it alone)."""
    ctx = dict(err.get("ctx") or {})
    if err["type"] == "value_error":
        ctx["error"] = ValueError(str(err["msg"]).removeprefix("Value error, "))
    detail = InitErrorDetails(type=err["type"], loc=err["loc"], input=err["input"], ctx=ctx)
    return ValidationError.from_exception_data(exc.title, [detail])


def _problems(exc: ValidationError) -> list[FieldProblem]:
    """One problem per pydantic error, each worded by the library's one-line formatter.

    A section-level rule (e.g. min > max) is reported on the section; when its message starts
    with a more precise key inside that section, that key is used so a form can mark the field.
    """
    out: list[FieldProblem] = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"])
        message = format_validation_error(_single(exc, err))
        named = _LEADING_KEY.match(message)
        if named and (not key or named.group(1).startswith(key + ".")):
            key = named.group(1)
        out.append(FieldProblem(key=key, message=message))
    return out


class ConfigService:
    """Holds the current :class:`RetailConfig` of one server and its file."""

    def __init__(self, settings: ServerSettings) -> None:
        self._lock = threading.Lock()
        initial: RetailConfig
        if settings.config_file is not None:
            initial = RetailConfig.from_file(settings.config_file)
            data = settings.data_dir or Path(initial.paths.data)
            self.file = Path(settings.config_file).expanduser().resolve()
        else:
            root = DataLayout.of(settings.data_dir or RetailConfig().paths.data).root
            data = root
            self.file = DataLayout(root).config_path
            initial = RetailConfig.from_file(self.file) if self.file.is_file() else RetailConfig()
        self.root = DataLayout.of(data).root
        # paths.data as the file says it (kept on save so the file stays portable)
        file_data = initial.paths.data
        self._file_paths_data = (
            file_data if settings.config_file is not None or self.file.is_file() else str(self.root)
        )
        self._stored = initial

    # -------------------------------------------------------------- reading
    @property
    def config(self) -> RetailConfig:
        """The effective configuration (data root = the server's data folder)."""
        with self._lock:
            return self._stored.with_data_dir(self.root)

    def public(self) -> dict[str, Any]:
        """The effective configuration as JSON with every secret masked."""
        return self.config.to_public_dict()

    @staticmethod
    def defaults() -> dict[str, Any]:
        return RetailConfig().to_public_dict()

    # -------------------------------------------------------------- validating
    def check(self, data: dict[str, Any]) -> tuple[RetailConfig | None, list[FieldProblem]]:
        """Validate a configuration the way a file is validated, plus the server's own rule
        that the data folder cannot change while it runs; never raises for bad input."""
        merged = self._with_kept_secret(data)
        try:
            text = json.dumps(merged)
        except (TypeError, ValueError):
            return None, [FieldProblem(key="", message=f"{_SOURCE}: not JSON-serialisable")]
        try:
            candidate = RetailConfig.model_validate_json(text)
        except ValidationError as exc:
            return None, _problems(exc)
        paths = merged.get("paths")
        explicit = isinstance(paths, dict) and "data" in paths
        problem = self._data_dir_problem(candidate, explicit)
        return (None, [problem]) if problem else (candidate, [])

    def _with_kept_secret(self, data: dict[str, Any]) -> dict[str, Any]:
        realtime = data.get("realtime")
        if isinstance(realtime, dict) and realtime.get("azure_connection_string") == MASK:
            kept = self._stored.realtime.azure_connection_string.get_secret_value()
            return {**data, "realtime": {**realtime, "azure_connection_string": kept}}
        return data

    def _data_dir_problem(self, candidate: RetailConfig, explicit: bool) -> FieldProblem | None:
        given = candidate.paths.data
        if not explicit or given == self._file_paths_data or DataLayout.of(given).root == self.root:
            return None
        return FieldProblem(
            key="paths.data",
            message=(
                f"paths.data = {given!r}: the server works on {self.root}; restart it with "
                "--data-dir to use another data folder"
            ),
        )

    # -------------------------------------------------------------- writing
    def replace(self, data: dict[str, Any]) -> RetailConfig:
        """Validate and persist a whole configuration; :class:`ConfigError` names the keys."""
        candidate, problems = self.check(data)
        if candidate is None:
            raise ConfigError(f"{_SOURCE}: " + "; ".join(p["message"] for p in problems))
        self._save(candidate)
        return self.config

    def reset(self) -> RetailConfig:
        """Back to the built-in defaults (the data folder stays the server's)."""
        self._save(RetailConfig())
        return self.config

    def _save(self, candidate: RetailConfig) -> None:
        data = candidate.model_dump(mode="json")
        data["paths"]["data"] = self._file_paths_data
        secret = candidate.realtime.azure_connection_string.get_secret_value()
        data["realtime"]["azure_connection_string"] = secret
        stored = RetailConfig.from_mapping(data, source=_SOURCE)
        with self._lock:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(data, indent=2) + "\n"
            # a file with a connection string is readable by its owner only
            atomic_write_text(self.file, text, mode=SECRET_FILE_MODE if secret else None)
            self._stored = stored
