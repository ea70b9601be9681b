"""Run the app under uvicorn (``retail-datagen serve`` and ``python -m retail_datagen.main``)."""

from __future__ import annotations

import errno
import logging
import socket
import sys

from retail_datagen.api.app import create_app
from retail_datagen.api.settings import ServerSettings
from retail_datagen.config.secrets import install_redaction
from retail_datagen.errors import UserError

__all__ = ["bind", "run_server"]

_FORMAT = "%(levelname)s %(name)s: %(message)s"
_log = logging.getLogger("retail_datagen.api")


def _one_handler(logger: logging.Logger) -> None:
    """Give ``logger`` its own stderr handler (redacting) unless it or a parent has one."""
    current: logging.Logger | None = logger
    while current is not None:
        if current.handlers:
            return
        current = current.parent if current.propagate else None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    logger.addHandler(handler)
    install_redaction(logger)


def _configure_logging() -> None:
    """Every record is written once: ours through the ``retail_datagen`` handler (the CLI's,
    or one added here), uvicorn's through one handler on ``uvicorn`` that does not propagate.
    uvicorn's own start-up chatter is hidden (WARNING) — the start-up line is ours — while its
    access log and its one traceback per failed request stay."""
    ours = logging.getLogger("retail_datagen")
    _one_handler(ours)
    if _log.getEffectiveLevel() > logging.INFO:
        _log.setLevel(logging.INFO)
    server = logging.getLogger("uvicorn")
    server.propagate = False
    _one_handler(server)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").setLevel(logging.INFO)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket of ``host:port`` (as uvicorn would create it), or one clear
    ``UserError`` — so a busy port is reported before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UserError(
                f"port {port} on {host} is in use; choose another with --port"
            ) from None
        if exc.errno == errno.EACCES:
            raise UserError(
                f"not allowed to listen on port {port}; choose one above 1023 with --port"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise UserError(
                f"{host} is not an address of this machine; choose another with --host"
            ) from None
        reason = exc.strerror or str(exc)
        raise UserError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def run_server(settings: ServerSettings) -> None:
    """Check the settings, bind the port, say how access is controlled, serve until Ctrl-C."""
    import uvicorn

    app = create_app(settings)  # refuses off loopback without a token, before binding
    sock = bind(settings.host, settings.port)
    _configure_logging()
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_config=None, log_level=None
    )
    _log.info(settings.startup_message())
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
