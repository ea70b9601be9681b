"""What every command shares: the ``--config``/``--data-dir`` options, the consoles, the exit
codes, loading the configuration, and the error handling that turns any exception into one line.

Every :class:`UserError` becomes one line ``error: <message>`` on stderr with exit code 2; Ctrl-C
exits 130; an unexpected exception prints one line and a hint to use ``--debug`` (exit 1).
"""

from __future__ import annotations

import errno
import functools
import logging
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table as RichTable

from retail_datagen.config.models import RetailConfig
from retail_datagen.config.secrets import install_redaction, redact
from retail_datagen.errors import UserError

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_USER_ERROR",
    "ConfigOption",
    "DataDirOption",
    "FileFormat",
    "cli_errors",
    "data_root",
    "load_config",
    "print_counts",
    "set_debug",
    "stderr",
    "stdout",
]

P = ParamSpec("P")
R = TypeVar("R")

EXIT_USER_ERROR = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130

_log = logging.getLogger("retail_datagen")
_debug = False


class FileFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Configuration JSON (see config.example.json); built-in defaults when omitted.",
        dir_okay=False,
        show_default=False,
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        "-d",
        help="Data folder (retail.duckdb, export/); default: the config's paths.data ('data').",
        file_okay=False,
        show_default=False,
    ),
]


def stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _one_line(text: str) -> str:
    return " ".join(redact(text).split())


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {_one_line(message)}", err=True)
    raise typer.Exit(code)


_DISK_FULL = (
    "no space left on device; free some space (or use another --data-dir) and run the command "
    "again: data already committed is intact"
)


def _is_disk_full(exc: BaseException | None) -> bool:
    """ENOSPC anywhere in the exception chain (DuckDB and Arrow only keep the message)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        if "no space left on device" in str(exc).lower():
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def cli_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn exceptions of a command into one clear line and the documented exit codes."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except UserError as exc:
            _fail(str(exc), EXIT_USER_ERROR)
        except KeyboardInterrupt:
            typer.echo("interrupted; data already committed is intact", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:
            if _debug:
                raise
            if _is_disk_full(exc):
                _fail(_DISK_FULL, EXIT_USER_ERROR)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            reason = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
            _fail(f"unexpected {reason} (run with --debug for details)", EXIT_FAILED)

    return wrapper


def load_config(config: Path | None, data_dir: Path | None) -> RetailConfig:
    """The validated configuration (before anything touches the data folder)."""
    cfg = RetailConfig.from_file(config) if config is not None else RetailConfig.model_validate({})
    return cfg.with_data_dir(data_dir) if data_dir is not None else cfg


def data_root(cfg: RetailConfig) -> Path:
    from retail_datagen.storage.layout import DataLayout

    return DataLayout.of(cfg.paths.data).root


def print_counts(title: str, counts: dict[str, int], seconds: float | None = None) -> None:
    table = RichTable(title=title, title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    table.add_row("total", f"{sum(counts.values()):,}", style="bold")
    stdout().print(table)
    if seconds is not None:
        stdout().print(f"in {seconds:.1f} s")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def set_debug(debug: bool) -> None:
    """Full tracebacks and debug logs or not; logs go to stderr through the redacting filter
    (the handler is installed once per process)."""
    global _debug
    _debug = debug
    if not any(getattr(h, "_retail_datagen", False) for h in _log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._retail_datagen = True  # type: ignore[attr-defined]
        _log.addHandler(handler)
        install_redaction(_log)
    _log.setLevel(logging.DEBUG if debug else logging.WARNING)
