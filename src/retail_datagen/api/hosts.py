"""Which ``Host`` header values the server answers (protection against DNS rebinding).

A web page on ``evil.example`` whose DNS name is re-pointed at 127.0.0.1 can send requests to
a local server from the victim's browser as "same origin" — but its requests still carry
``Host: evil.example``. So only these hosts are served (any port):

* the loopback names ``localhost``, ``127.0.0.1`` (any 127.x address) and ``[::1]``;
* the address the server is bound to; bound to a wildcard (``0.0.0.0``, ``::``) that is any
  IP address of the machine (an IP literal cannot be rebound) and the machine's host name;
* the names listed with ``serve --allowed-host`` / ``RETAIL_DATAGEN_ALLOWED_HOSTS`` ("*": any).

Every other request gets 400 with a one-line JSON error, before any route runs.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from retail_datagen.api.settings import ALLOWED_HOSTS_ENV, ServerSettings, is_loopback

__all__ = ["HostGuard", "HostPolicy", "host_name"]

_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})
_FORBIDDEN = frozenset("/\\@?#%` \t\r\n")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_name(value: str) -> str | None:
    """The lower-case name of a ``host[:port]`` value (``[::1]:8000`` → ``::1``); None when
    it is not one (a user-info part, a path, a bad port)."""
    value = value.strip()
    if not value or _FORBIDDEN.intersection(value):
        return None
    if value.startswith("["):
        name, bracket, port = value[1:].partition("]")
        if not bracket or not _is_ip(name):
            return None
    elif value.count(":") > 1:
        return None  # an IPv6 address must be bracketed in a Host header
    else:
        name, colon, rest = value.partition(":")
        port = colon + rest
    if port and not (port[0] == ":" and port[1:].isdigit() and int(port[1:]) < 65536):
        return None
    name = name.lower().rstrip(".")
    return name or None


@dataclass(frozen=True)
class HostPolicy:
    """The host names this server answers to (see the module docstring)."""

    names: frozenset[str]
    any_ip: bool = False
    any_host: bool = False

    @classmethod
    def of(cls, settings: ServerSettings) -> HostPolicy:
        bound = settings.host.strip().strip("[]").lower()
        names = set(_LOOPBACK_NAMES)
        names.update(n.strip().strip("[]").lower().rstrip(".") for n in settings.allowed_hosts)
        wildcard = bound in _WILDCARDS
        if wildcard:
            names.add(socket.gethostname().lower())
        else:
            names.add(bound)
        return cls(frozenset(names), any_ip=wildcard, any_host="*" in names)

    def allows_name(self, name: str) -> bool:
        """True for a name from :func:`host_name` that this server answers to."""
        return (
            self.any_host
            or name in self.names
            or is_loopback(name)
            or (self.any_ip and _is_ip(name))
        )

    def allows(self, host_header: str) -> bool:
        name = host_name(host_header)
        return name is not None and self.allows_name(name)

    def trusts_origin(self, netloc: str) -> bool:
        """True when a page served from ``netloc`` (another origin than this server's) may
        change data: the loopback and explicitly listed names only — not "*" nor any IP of
        a wildcard bind, which are fine as a Host but say nothing about who wrote the page."""
        name = host_name(netloc)
        return name is not None and name != "*" and (name in self.names or is_loopback(name))


def _refusal(host: str) -> bytes:
    shown = host[:100] if host else "(none)"
    detail = (
        f"host {shown!r} is not served here (DNS-rebinding protection); if it is this "
        f"server's name, allow it with `serve --allowed-host NAME` or {ALLOWED_HOSTS_ENV}"
    )
    return json.dumps({"detail": detail}).encode("utf-8")


class HostGuard:
    """ASGI middleware: 400 for an HTTP request whose ``Host`` the policy does not allow."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        host = ""
        for key, value in scope["headers"]:
            if key == b"host":
                host = value.decode("latin-1")
                break
        if self.policy.allows(host):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            body = _refusal(host)
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": body})
