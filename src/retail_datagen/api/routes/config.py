"""The configuration: read (secrets masked), replace, validate, reset to defaults."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from retail_datagen.api.deps import ServicesDep
from retail_datagen.api.models import ConfigResponse, ConfigValidation, FieldError

router = APIRouter(prefix="/api/config", tags=["config"])
ConfigBody = Annotated[
    dict[str, Any],
    Body(
        description="a whole configuration (as config.json); a masked secret '***' keeps the "
        "stored value",
        examples=[{"volume": {"stores": 4}}],
    ),
]


def _response(services: ServicesDep) -> ConfigResponse:
    return ConfigResponse(
        config=services.config.public(),
        data_dir=str(services.root),
        config_file=str(services.config.file),
    )


@router.get("", response_model=ConfigResponse)
def get_config(services: ServicesDep) -> ConfigResponse:
    return _response(services)


@router.get("/defaults", response_model=ConfigResponse)
def get_defaults(services: ServicesDep) -> ConfigResponse:
    return ConfigResponse(
        config=services.config.defaults(),
        data_dir=str(services.root),
        config_file=str(services.config.file),
    )


@router.put("", response_model=ConfigResponse)
def put_config(services: ServicesDep, body: ConfigBody) -> ConfigResponse:
    """Validate (422 naming the key) and save atomically to the server's config file."""
    services.config.replace(body)
    return _response(services)


@router.post("/validate", response_model=ConfigValidation)
def validate_config(services: ServicesDep, body: ConfigBody) -> ConfigValidation:
    """Check a configuration without saving it; one error per key."""
    _, problems = services.config.check(body)
    return ConfigValidation(
        valid=not problems,
        errors=[FieldError(key=p["key"], message=p["message"]) for p in problems],
    )


@router.post("/reset", response_model=ConfigResponse)
def reset_config(services: ServicesDep) -> ConfigResponse:
    services.config.reset()
    return _response(services)
