"""Server entry points.

* ``python -m retail_datagen.main [--host H] [--port P] [--config FILE] [--data-dir DIR]``
  starts the server (the same options as ``retail-datagen serve``).
* ``uvicorn retail_datagen.main:app`` serves an app built on first access from the
  environment (``RETAIL_DATAGEN_CONFIG``, ``RETAIL_DATAGEN_DATA_DIR``,
  ``RETAIL_DATAGEN_API_TOKEN``, ``RETAIL_DATAGEN_ALLOWED_HOSTS``); as uvicorn's bind address
  is unknown here, without a token only clients on this machine may change anything, and
  only loopback names and the allowed hosts are answered.

Importing this module has no side effects (worker processes re-import it).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["main"]  # and the lazily built `app` (module __getattr__)

_app: FastAPI | None = None


def __getattr__(name: str) -> Any:
    """Build ``app`` lazily, once (module ``__getattr__``, PEP 562)."""
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app is None:
        from retail_datagen.api import ServerSettings, create_app

        _app = create_app(ServerSettings.from_env(loopback_clients_only=True))
    return _app


def main(argv: list[str] | None = None) -> None:
    """Run ``retail-datagen serve`` with ``argv`` (default: the process arguments)."""
    from retail_datagen.__main__ import load_cli

    args = sys.argv[1:] if argv is None else argv
    load_cli().app(["serve", *args], prog_name="python -m retail_datagen.main")


if __name__ == "__main__":
    main()
