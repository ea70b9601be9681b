"""The REST API and web UI (FastAPI): ``create_app(ServerSettings(...))``."""

from retail_datagen.api.app import create_app
from retail_datagen.api.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
