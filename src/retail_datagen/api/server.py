"""Run the app under uvicorn (``retail-datagen serve`` and ``python -m retail_datagen.main``)."""

from __future__ import annotations

import logging

from retail_datagen.api.app import create_app
from retail_datagen.api.settings import ServerSettings
from retail_datagen.config.secrets import install_redaction

__all__ = ["run_server"]


def run_server(settings: ServerSettings) -> None:
    """Check the settings, say how access is controlled, and serve until Ctrl-C."""
    import uvicorn

    app = create_app(settings)  # refuses off loopback without a token, before binding
    # one plain root handler with the redacting filter; uvicorn logs through it (log_config=None)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    install_redaction(logging.getLogger())
    logging.getLogger("retail_datagen.api").warning(settings.startup_message())
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, log_level="info")
