"""The web UI: one server-rendered page; the tabs are driven by small vanilla-JS modules."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from retail_datagen import __version__
from retail_datagen.api.deps import ServicesDep
from retail_datagen.api.models import CLEAR_CONFIRMATION

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, services: ServicesDep) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "version": __version__,
            "data_dir": str(services.root),
            "auth_required": services.settings.token_required,
            "clear_confirmation": CLEAR_CONFIRMATION,
        },
    )
