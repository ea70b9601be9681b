"""The packages import one way and in no circle (pyproject.toml ``[tool.importlinter]``).

``lint-imports`` checks the contracts in scripts/test.sh; checking them here too makes a violating
import fail the test suite itself, and shows that the contracts do catch one.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter.api import read_configuration
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.layers import LayersContract
from importlinter.domain.contract import Contract

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
KINDS: dict[str, type[Contract]] = {
    "layers": LayersContract,
    "acyclic_siblings": AcyclicSiblingsContract,
}


@pytest.fixture(scope="module")
def contracts() -> dict[str, Contract]:
    """The project's contracts by id, as ``lint-imports`` reads them."""
    config = read_configuration(str(PYPROJECT))
    session: dict[str, Any] = config["session_options"]
    found: dict[str, Contract] = {}
    for options in config["contracts_options"]:
        kind = KINDS[options["type"]]
        found[options["id"]] = kind(options["name"], session, options)
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("retail_datagen", cache_dir=None)


def _broken(contract: Contract, graph: grimp.ImportGraph) -> bool:
    return not contract.check(copy.deepcopy(graph), verbose=False).kept


def test_the_code_keeps_every_contract(
    contracts: dict[str, Contract], graph: grimp.ImportGraph
) -> None:
    assert set(contracts) == {"layers", "acyclic"}
    broken = [c.name for c in contracts.values() if _broken(c, graph)]
    assert not broken, f"broken import contracts: {broken}; run `lint-imports` for the imports"


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("retail_datagen.storage.layout", "retail_datagen.engine.history"),
        ("retail_datagen.generators.facts.receipts", "retail_datagen.storage.fact_writer"),
        ("retail_datagen.engine.local", "retail_datagen.api.app"),
        ("retail_datagen.schema.tables", "retail_datagen.dictionaries.loader"),
        ("retail_datagen.validation.runner", "retail_datagen.streaming.event"),
    ],
)
def test_an_import_against_the_layers_breaks_them(
    contracts: dict[str, Contract], graph: grimp.ImportGraph, importer: str, imported: str
) -> None:
    changed = copy.deepcopy(graph)
    changed.add_import(importer=importer, imported=imported)
    assert _broken(contracts["layers"], changed)


def test_a_circle_inside_a_package_breaks_the_acyclic_contract(
    contracts: dict[str, Contract], graph: grimp.ImportGraph
) -> None:
    changed = copy.deepcopy(graph)
    changed.add_import(
        importer="retail_datagen.generators.facts.context",
        imported="retail_datagen.generators.dims.products",
    )
    changed.add_import(
        importer="retail_datagen.generators.dims.products",
        imported="retail_datagen.generators.facts.context",
    )
    assert not _broken(contracts["layers"], changed)  # the layers cannot see inside one
    assert _broken(contracts["acyclic"], changed)
