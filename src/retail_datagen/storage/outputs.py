"""The Delta output of a history: where its tables are, how its files are written and published.

``--format delta`` keeps the Parquet layout and adds a Delta log per fact table
(:mod:`~retail_datagen.storage.delta`). Locally the files are written by the ordinary
:class:`FactWriter` into ``<data>/export``; with ``--output URL`` (Azure, see
:mod:`~retail_datagen.storage.remote`) a :class:`RemoteFactWriter` streams each period file
straight to the object store (an upload becomes visible whole when it completes, so no temporary
name is needed), and nothing but the local state lives on disk.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import obstore

from retail_datagen.errors import DataStateError, UserError
from retail_datagen.schema import FACTS
from retail_datagen.storage.delta import delta_files, discard_unpublished, publish
from retail_datagen.storage.fact_writer import FactWriter, _OpenFile, new_file_writer
from retail_datagen.storage.layout import DataLayout
from retail_datagen.storage.remote import (
    FactLocation,
    fact_location,
    is_remote_url,
    parse_azure_url,
    remote_errors,
)
from retail_datagen.storage.state import GenerationState

__all__ = ["FactOutput", "RemoteFactWriter", "check_output", "open_output"]


def check_output(
    state: GenerationState, has_facts: bool, fmt: str, output_url: str | None
) -> str | None:
    """The output URL of a run (display form, no secrets): the stored one when facts exist; a
    different one, or a URL with a format other than delta, is refused in one line."""
    if output_url is not None and not is_remote_url(output_url):
        parse_azure_url(output_url)  # raises the one-line usage error
    shown = parse_azure_url(output_url).display if output_url else None
    if has_facts:
        stored = state.output_url
        if shown is not None and shown != stored:
            where = stored or "the data folder's export/"
            raise DataStateError(
                f"the existing facts are in {where}; continue there (drop --output), or clear "
                "the facts first"
            )
        shown = stored
    if shown is not None and fmt != "delta":
        raise UserError("--output URL writes Delta tables; add --format delta")
    return shown


class _UploadSink(io.RawIOBase):
    """A binary file that streams to an obstore upload (multipart; whole when closed)."""

    def __init__(self, store: object, path: str) -> None:
        super().__init__()
        self._upload = obstore.open_writer(store, path)  # type: ignore[arg-type]
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._upload.write(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def close(self) -> None:
        if not self.closed:
            self._upload.close()  # completes the upload: the object appears whole
        super().close()


class RemoteFactWriter(FactWriter):
    """:class:`FactWriter` whose period files stream to an object store under their final
    names: an unfinished upload is never visible, so a crash leaves no partial object."""

    def __init__(self, layout: DataLayout, location: FactLocation) -> None:
        super().__init__(layout, "parquet")
        self.location = location

    def _open_file(self, table: str) -> _OpenFile:
        final = self._final_path(table)
        name = f"{table}/{final.name}"
        with remote_errors(self.location):
            sink = _UploadSink(self.location.store, name)
        handle = _OpenFile(table, final, final, new_file_writer(table, sink, "parquet"))  # type: ignore[arg-type]
        handle.sink = sink  # type: ignore[attr-defined]
        self._open[table] = handle
        return handle

    def close_period(self) -> list:  # type: ignore[type-arg]
        done = []
        with remote_errors(self.location):
            for handle in self._open.values():
                handle.flush()
                handle.writer.close()
                handle.sink.close()  # type: ignore[attr-defined]
                done.append(handle.final)
        self._open.clear()
        self._period = None
        self._first_day = None
        self.committed_files.extend(done)
        return done

    def abort(self) -> None:
        """Drop the current period's uploads (never completed, so never visible)."""
        self._open.clear()
        self._period = None
        self._first_day = None


@dataclass(frozen=True)
class FactOutput:
    """A Delta output: the location of its tables and the data folder's layout."""

    layout: DataLayout
    location: FactLocation

    def writer(self) -> FactWriter:
        if self.location.is_remote:
            return RemoteFactWriter(self.layout, self.location)
        return FactWriter(self.layout, "parquet")

    def publish(self, through: date) -> None:
        """One Delta append per table with every file up to ``through`` the log lacks."""
        publish(self.location, through)

    def _refuse_foreign_tables(self) -> None:
        """A new history never appends to Delta tables another history left at the URL."""
        for decl in FACTS:
            if delta_files(self.location, decl.name):
                raise DataStateError(
                    f"{self.location.url} already holds Delta tables with rows ({decl.name}) "
                    "that this data folder did not write; use another --output path, or delete "
                    "them first"
                )

    def repair(self, last_day: date | None) -> None:
        """Remove an interrupted run's unpublished files after ``last_day`` (local ones are
        removed with the other leftovers), and publish committed days the log lacks."""
        if self.location.is_remote:
            if last_day is None:
                self._refuse_foreign_tables()
            discard_unpublished(self.location, last_day)
        if last_day is not None:
            publish(self.location, last_day)


def open_output(layout: DataLayout, fmt: str, output_url: str | None) -> FactOutput | None:
    """The Delta output for ``fmt`` (None unless ``fmt`` is delta)."""
    if fmt != "delta":
        return None
    location = fact_location(layout.export_dir, output_url)
    if location.is_remote:
        location.check()
    return FactOutput(layout, location)
