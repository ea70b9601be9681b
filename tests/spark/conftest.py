"""One local[2] SparkSession for the Spark tests (starting one takes seconds); they are skipped
when pyspark or Java is missing (scripts/test.sh installs both)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("pyspark")

if shutil.which("java") is None:
    pytest.skip(
        "Java is missing (apt-get install openjdk-17-jre-headless)", allow_module_level=True
    )


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from retail_datagen.spark import local_session

    session = local_session("local[2]")
    yield session
    session.stop()
