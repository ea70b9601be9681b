"""librdkafka's log, collapsed: one line per distinct condition, repeats counted, rate-limited.

librdkafka logs every reconnect attempt ("Connect to ipv4#127.0.0.1:9092 failed: Connection
refused") several times a second, so a broker that is down for two minutes printed hundreds of
identical lines. confluent-kafka hands each line to the ``logger`` of its configuration as
``logger.log(level, "%s [%s] %s", facility, client, message)``; :class:`CollapsingLogger` is
that logger. A condition is the facility plus the message with numbers masked; it is logged the
first time, then at most once per ``window`` seconds with how often it repeated meanwhile.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

__all__ = ["LIBRDKAFKA_LOGGER", "CollapsingLogger"]

LIBRDKAFKA_LOGGER = "retail_datagen.streaming.sinks.librdkafka"
_NUMBERS = re.compile(r"\d+")
_THREAD = re.compile(r"^\[thrd:[^\]]*\]:\s*")


class CollapsingLogger:
    """A ``logging.Logger`` stand-in for confluent-kafka (called from librdkafka's threads)."""

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        window: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        max_level: int = logging.CRITICAL,
    ) -> None:
        self.logger = logger or logging.getLogger(LIBRDKAFKA_LOGGER)
        self.window = window
        self.max_level = max_level  # e.g. DEBUG for a probe that reports the failure itself
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[int, str], tuple[float, int]] = {}  # key → (last logged, repeats)

    def log(self, level: int, msg: str, *args: object) -> None:
        level = min(level, self.max_level)
        text = (msg % args) if args else str(msg)
        facility, message = _split(args, text)
        key = (level, f"{facility} {_NUMBERS.sub('#', message)}")
        now = self._clock()
        with self._lock:
            last = self._seen.get(key)
            if last is not None and now - last[0] < self.window:
                self._seen[key] = (last[0], last[1] + 1)
                return
            repeats = last[1] if last is not None else 0
            self._seen[key] = (now, 0)
        suffix = f" (and {repeats} more like it in the last {self.window:g} s)" if repeats else ""
        self.logger.log(level, "librdkafka %s: %s%s", facility, message, suffix)

    # confluent-kafka only calls ``log``; these keep the object usable as a logger elsewhere
    def isEnabledFor(self, level: int) -> bool:
        return self.logger.isEnabledFor(level)


def _split(args: tuple[object, ...], text: str) -> tuple[str, str]:
    """(facility, message) from confluent-kafka's ``"%s [%s] %s"`` arguments."""
    if len(args) == 3:
        facility, message = str(args[0]), str(args[2])
    else:
        facility, message = "", text
    return facility, _THREAD.sub("", message)
