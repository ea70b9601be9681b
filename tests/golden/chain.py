"""The golden chain: a fixed seed over a month boundary whose table digests are pinned.

Refactors must leave these digests unchanged; a change that alters the data of a seed updates
them on purpose (``python -m tests.golden.chain --update``) and says so in the changelog.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from retail_datagen.config.models import RetailConfig
from retail_datagen.storage.digest import table_digests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from volumes import generate, small_config

DIGESTS = Path(__file__).with_name("digests.json")
FIRST, LAST = "2024-01-30", "2024-02-02"


def golden_config(root: Path) -> RetailConfig:
    """3 stores, 1 DC, a few hundred customers and products from Jan 30."""
    return small_config(
        root,
        start=FIRST,
        stores=3,
        dcs=1,
        total_geographies=20,
        total_customers=400,
        total_products=200,
        customers_per_day=30,
        online_orders_per_day=40,
        marketing_impressions_per_day=300,
    )


def golden_digests(root: Path) -> dict[str, str]:
    """Generate the golden chain into ``root`` (one worker) and digest every table."""
    generate(golden_config(root), None, LAST)
    return table_digests(root)


if __name__ == "__main__":
    import tempfile

    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/golden/chain.py --update")
    with tempfile.TemporaryDirectory() as tmp:
        DIGESTS.write_text(json.dumps(golden_digests(Path(tmp)), indent=1, sort_keys=True) + "\n")
    print(f"wrote {DIGESTS}")
