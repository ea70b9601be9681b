"""Long work as tasks: ids, status, throttled progress, cancellation and an event log.

Work runs on a worker thread (``FactDataGenerator`` starts its own processes from there), so the
event loop keeps serving requests. Each task keeps the events it published — progress updates
and a final ``done`` — so a server-sent-events client that connects late, or reconnects with
``Last-Event-ID``, still receives every event in order.

One data-changing owner at a time per data folder: :class:`DataGuard` is shared by every task
manager and the streamer of a folder in this process; a second claim is refused with
:class:`Busy` (HTTP 409) instead of letting two writers race on the same files.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from retail_datagen.api.services.errors import Busy, NotFound
from retail_datagen.config.secrets import redact
from retail_datagen.engine.progress import ProgressUpdate
from retail_datagen.errors import UserError

__all__ = [
    "DataGuard",
    "Task",
    "TaskCancelled",
    "TaskContext",
    "TaskEvent",
    "TaskManager",
    "TaskStatus",
    "Work",
]

_log = logging.getLogger("retail_datagen.api.tasks")
T = TypeVar("T")

MAX_EVENTS_PER_TASK = 2_000
MAX_FINISHED_TASKS = 100
KEEPALIVE_SECONDS = 15.0


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED})


class TaskCancelled(Exception):
    """Raised by work that stopped because it was asked to; ``result`` is what it committed."""

    def __init__(self, result: dict[str, Any] | None = None) -> None:
        super().__init__("cancelled")
        self.result = result


def _now() -> datetime:
    return datetime.now(UTC)


def one_line_error(exc: BaseException) -> str:
    """A user-facing, redacted one-line reason (never a traceback)."""
    if isinstance(exc, UserError):
        text = str(exc)
    else:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        text = f"unexpected {type(exc).__name__}" + (f": {first}" if first else "")
    return " ".join(redact(text).split())[:500]


# ---------------------------------------------------------------- the data-folder guard
class DataGuard:
    """Who may change one data folder right now (a task id or "stream"); one owner at a time."""

    _guards: ClassVar[dict[Path, DataGuard]] = {}
    _guards_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._owner: tuple[str, str] | None = None  # (owner id, description)

    @classmethod
    def for_folder(cls, root: Path) -> DataGuard:
        """The process-wide guard of ``root`` (two apps on one folder share it)."""
        key = root.resolve()
        with cls._guards_lock:
            guard = cls._guards.get(key)
            if guard is None:
                guard = cls._guards[key] = DataGuard(key)
            return guard

    @property
    def owner(self) -> tuple[str, str] | None:
        return self._owner

    def claim(self, owner: str, description: str) -> None:
        with self._lock:
            if self._owner is not None and self._owner[0] != owner:
                raise Busy(
                    f"{self._owner[1]} is changing the data in {self.root}; wait for it to "
                    "finish or cancel it first"
                )
            self._owner = (owner, description)

    def release(self, owner: str) -> None:
        with self._lock:
            if self._owner is not None and self._owner[0] == owner:
                self._owner = None


# ---------------------------------------------------------------- tasks
@dataclass(frozen=True)
class TaskEvent:
    seq: int
    name: str  # "progress" or "done"
    data: dict[str, Any]

    def sse(self) -> str:
        return f"id: {self.seq}\nevent: {self.name}\ndata: {json.dumps(self.data)}\n\n"


@dataclass(eq=False)
class Task:
    """One unit of long work and everything a client may ask about it."""

    id: str
    kind: str
    params: dict[str, Any]
    data_changing: bool
    status: TaskStatus = TaskStatus.PENDING
    created_at: datetime = field(default_factory=_now)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: ProgressUpdate | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    _events: deque[TaskEvent] = field(
        default_factory=lambda: deque(maxlen=MAX_EVENTS_PER_TASK), repr=False
    )
    _seq: int = 0
    _closed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(
        default_factory=set, repr=False
    )

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def closed(self) -> bool:
        """True once the final ``done`` event is published (no more events will follow)."""
        return self._closed

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status.value,
            "params": self.params,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "progress": self.progress.to_dict() if self.progress else None,
            "result": self.result,
            "error": self.error,
        }

    def publish(self, name: str, data: dict[str, Any], *, final: bool = False) -> None:
        with self._lock:
            self._seq += 1
            self._events.append(TaskEvent(self._seq, name, data))
            if final:
                self._closed = True
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody listens
                loop.call_soon_threadsafe(event.set)

    def events_after(self, seq: int) -> list[TaskEvent]:
        with self._lock:
            return [e for e in self._events if e.seq > seq]

    @contextlib.contextmanager
    def _waiter(self) -> Iterator[asyncio.Event]:
        key = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(key)
        try:
            yield key[1]
        finally:
            with self._lock:
                self._waiters.discard(key)


class TaskContext:
    """What work sees of its task: the cancel flag and a progress reporter."""

    def __init__(self, task: Task, on_progress: Callable[[Task], None]) -> None:
        self._task = task
        self._on_progress = on_progress

    @property
    def cancel_event(self) -> threading.Event:
        return self._task.cancel_event

    @property
    def cancelled(self) -> bool:
        return self._task.cancel_event.is_set()

    def report(self, update: ProgressUpdate) -> None:
        """Record and publish one (already throttled) progress update."""
        self._task.progress = update
        self._task.publish("progress", update.to_dict())
        self._on_progress(self._task)


Work = Callable[[TaskContext], dict[str, Any]]


class TaskManager:
    """Runs tasks on worker threads and keeps their state for the API (one per server)."""

    def __init__(
        self,
        guard: DataGuard,
        *,
        on_change: Callable[[Task], None] | None = None,
    ) -> None:
        self.guard = guard
        self._on_change = on_change or (lambda task: None)
        self._tasks: dict[str, Task] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    # -------------------------------------------------------------- queries
    def all(self) -> list[Task]:
        with self._lock:
            return sorted(self._tasks.values(), key=lambda t: t.created_at, reverse=True)

    def get(self, task_id: str) -> Task:
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None:
            raise NotFound(f"no task with id {task_id!r}")
        return task

    def active(self) -> list[Task]:
        return [t for t in self.all() if not t.finished]

    # -------------------------------------------------------------- lifecycle
    def submit(
        self,
        kind: str,
        work: Work,
        *,
        params: dict[str, Any] | None = None,
        data_changing: bool = True,
    ) -> Task:
        """Start ``work`` on a thread; a data-changing task first claims the data folder."""
        task = Task(uuid.uuid4().hex[:12], kind, dict(params or {}), data_changing)
        if data_changing:
            self.guard.claim(task.id, f"a {kind} task (id {task.id})")
        else:
            self.refuse_while_changing(kind)
        thread = threading.Thread(
            target=self._run, args=(task, work), name=f"task-{kind}-{task.id}", daemon=True
        )
        with self._lock:
            self._tasks[task.id] = task
            self._threads[task.id] = thread
            self._forget_old()
        self._on_change(task)
        thread.start()
        return task

    def refuse_while_changing(self, kind: str) -> None:
        """Busy (409) while someone changes the data: readers would see half of it."""
        owner = self.guard.owner
        if owner is not None:
            raise Busy(f"{owner[1]} is changing the data; {kind} can run when it has finished")

    def exclusive(self, owner: str, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` now while holding the data folder (short work such as clear)."""
        self.guard.claim(owner, f"a {owner} operation")
        try:
            return fn(*args)
        finally:
            self.guard.release(owner)

    def cancel(self, task_id: str) -> Task:
        """Ask a task to stop; it ends as ``cancelled`` at its next checkpoint."""
        task = self.get(task_id)
        if not task.finished:
            task.cancel_event.set()
        return task

    def cancel_all(self, timeout: float) -> bool:
        """Cancel every unfinished task and wait up to ``timeout`` s; True when all ended."""
        active = self.active()
        for task in active:
            task.cancel_event.set()
        deadline = time.monotonic() + timeout
        for task in active:
            thread = self._threads.get(task.id)
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        return all(t.finished for t in active)

    def _forget_old(self) -> None:
        finished = [t for t in self._tasks.values() if t.finished]
        finished.sort(key=lambda t: t.created_at)
        for task in finished[: max(0, len(finished) - MAX_FINISHED_TASKS)]:
            self._tasks.pop(task.id, None)
            self._threads.pop(task.id, None)

    def _run(self, task: Task, work: Work) -> None:
        task.status = TaskStatus.RUNNING
        task.started_at = _now()
        self._on_change(task)
        try:
            if task.cancel_event.is_set():
                raise TaskCancelled
            task.result = work(TaskContext(task, self._on_change))
            task.status = TaskStatus.SUCCEEDED
        except TaskCancelled as exc:
            task.result = exc.result
            task.status = TaskStatus.CANCELLED
        except BaseException as exc:
            task.error = one_line_error(exc)
            task.status = TaskStatus.FAILED
            if not isinstance(exc, UserError):
                _log.error("task %s (%s) failed", task.id, task.kind, exc_info=True)
        finally:
            task.finished_at = _now()
            if task.data_changing:
                self.guard.release(task.id)
            task.publish("done", task.to_dict(), final=True)
            self._on_change(task)

    # -------------------------------------------------------------- server-sent events
    async def events(self, task_id: str, last_event_id: int = 0) -> AsyncIterator[str]:
        """The task's events after ``last_event_id`` as SSE text, live until ``done``."""
        task = self.get(task_id)
        seq = last_event_id
        yield "retry: 2000\n\n"
        while True:
            with task._waiter() as wake:
                pending = task.events_after(seq)
                if not pending:
                    if task.closed:
                        return
                    try:
                        await asyncio.wait_for(wake.wait(), KEEPALIVE_SECONDS)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                    continue
            for event in pending:
                seq = event.seq
                yield event.sse()
