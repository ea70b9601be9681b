"""How one server instance is set up: where it listens, which config file and data folder it
owns, the API token and which folders file sinks may write to.

A server owns exactly one data folder for its whole life; every task, query and delete is
confined to it.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from retail_datagen.errors import UserError

__all__ = [
    "ALLOWED_HOSTS_ENV",
    "ALLOWED_SINK_DIRS_ENV",
    "CONFIG_ENV",
    "DATA_DIR_ENV",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "HOST_ENV",
    "TOKEN_ENV",
    "ServerSettings",
    "is_loopback",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
TOKEN_ENV = "RETAIL_DATAGEN_API_TOKEN"
ALLOWED_SINK_DIRS_ENV = "RETAIL_DATAGEN_ALLOWED_SINK_DIRS"
ALLOWED_HOSTS_ENV = "RETAIL_DATAGEN_ALLOWED_HOSTS"
CONFIG_ENV = "RETAIL_DATAGEN_CONFIG"
DATA_DIR_ENV = "RETAIL_DATAGEN_DATA_DIR"
HOST_ENV = "RETAIL_DATAGEN_HOST"


_DNS_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?")


def _is_host_name(name: str) -> bool:
    """A DNS name, or an IP address (an IPv6 one with or without brackets); no port."""
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        return bare == name and _DNS_NAME.fullmatch(name) is not None
    return True


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost`` — the only binds that need no token."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerSettings:
    """Start-up settings; ``from_env`` fills the ones the command line did not give."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    config_file: Path | None = None  # None: <data>/config.json (if present) and saved there
    data_dir: Path | None = None  # None: the configuration's paths.data
    api_token: str | None = field(default=None, repr=False)
    allowed_sink_dirs: tuple[Path, ...] = ()
    # Host names accepted in the Host header besides the loopback names and the bound address
    # (DNS-rebinding protection, see ``retail_datagen.api.hosts``); "*" accepts any.
    allowed_hosts: tuple[str, ...] = ()
    # When the bind address is unknown (``uvicorn retail_datagen.main:app``) and no token is
    # set, state-changing requests are accepted from loopback clients only.
    loopback_clients_only: bool = False
    # Worker processes for fact generation (None: all CPUs, like the CLI).
    workers: int | None = None

    @classmethod
    def from_env(
        cls,
        *,
        host: str | None = None,
        port: int = DEFAULT_PORT,
        config_file: Path | None = None,
        data_dir: Path | None = None,
        environ: dict[str, str] | None = None,
        loopback_clients_only: bool = False,
        allowed_hosts: tuple[str, ...] = (),
    ) -> ServerSettings:
        env = dict(os.environ) if environ is None else environ
        token = (env.get(TOKEN_ENV) or "").strip() or None
        dirs = tuple(
            Path(p).expanduser().resolve()
            for p in (env.get(ALLOWED_SINK_DIRS_ENV) or "").split(os.pathsep)
            if p.strip()
        )
        env_hosts = (env.get(ALLOWED_HOSTS_ENV) or "").replace(",", " ").split()
        config_env = (env.get(CONFIG_ENV) or "").strip()
        data_env = (env.get(DATA_DIR_ENV) or "").strip()
        return cls(
            host=host or (env.get(HOST_ENV) or "").strip() or DEFAULT_HOST,
            port=port,
            config_file=config_file or (Path(config_env) if config_env else None),
            data_dir=data_dir or (Path(data_env) if data_env else None),
            api_token=token,
            allowed_sink_dirs=dirs,
            allowed_hosts=tuple(dict.fromkeys([*allowed_hosts, *env_hosts])),
            loopback_clients_only=loopback_clients_only,
        )

    @property
    def token_required(self) -> bool:
        """A token guards POST/PUT/DELETE when one is set, and must be set off loopback."""
        return self.api_token is not None or not is_loopback(self.host)

    def check(self) -> None:
        """Refuse to start when bound off loopback without a token."""
        if not is_loopback(self.host) and not self.api_token:
            raise UserError(
                f"binding to {self.host} exposes the API beyond this machine; set {TOKEN_ENV} "
                "to a long random token (clients send it as 'Authorization: Bearer <token>') "
                "or bind to 127.0.0.1"
            )
        if self.api_token is not None and len(self.api_token) < 16:
            raise UserError(f"{TOKEN_ENV} is too short; use at least 16 random characters")
        for name in self.allowed_hosts:
            if name != "*" and not _is_host_name(name):
                raise UserError(
                    f"allowed host {name!r} is not a host name or IP address; give it without "
                    f"scheme, port or path (--allowed-host or {ALLOWED_HOSTS_ENV})"
                )

    def startup_message(self) -> str:
        """What the server says about access control when it starts (never the token)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        where = f"http://{host}:{self.port}"
        if self.api_token:
            return (
                f"serving {where}; POST/PUT/DELETE require 'Authorization: Bearer <token>' "
                f"(token from {TOKEN_ENV})"
            )
        return f"serving {where} (loopback only; no API token needed)"
