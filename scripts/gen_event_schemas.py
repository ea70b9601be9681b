"""Regenerate docs/events/<event_type>.schema.json from the schema registry.

Run after changing a fact table or the event mapping:
    .venv/bin/python scripts/gen_event_schemas.py
(tests/streaming/test_events.py fails while the committed files are out of date).
"""

from __future__ import annotations

from pathlib import Path

from retail_datagen.streaming.events import write_event_schemas

if __name__ == "__main__":
    folder = Path(__file__).resolve().parents[1] / "docs" / "events"
    for path in write_event_schemas(folder):
        print(path.relative_to(folder.parents[1]))
