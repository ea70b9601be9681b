"""What an Event Hubs / Fabric connection string points at — without ever holding on to its key.

The API's connection check, the sinks and the logs all need to know the namespace, the hub and
the kind of endpoint; none of them may see the key. :func:`describe_connection_string` parses
once, validates the parts a sender needs and returns only the non-secret facts.

Kinds:

* ``emulator`` — ``UseDevelopmentEmulator=true`` (the SDK then turns TLS off; local endpoints).
* ``fabric`` — a Microsoft Fabric Eventstream custom endpoint. Fabric issues ordinary Event Hubs
  connection strings, so this is a heuristic on what Fabric generates: the host starts with
  ``eventstream-`` or the EntityPath starts with ``es_``. It only changes labels and messages;
  the protocol is the same.
* ``eventhubs`` — everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from retail_datagen.errors import UserError

__all__ = ["ConnectionInfo", "ConnectionKind", "describe_connection_string"]

ConnectionKind = Literal["eventhubs", "fabric", "emulator"]

_EXPECTED = (
    "Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=<policy>;"
    "SharedAccessKey=<key>[;EntityPath=<hub>]"
)
_CANONICAL = {
    name.lower(): name
    for name in (
        "Endpoint",
        "SharedAccessKeyName",
        "SharedAccessKey",
        "SharedAccessSignature",
        "EntityPath",
        "UseDevelopmentEmulator",
    )
}


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """The non-secret facts of a connection string (safe to log, show and return)."""

    kind: ConnectionKind
    endpoint: str  # host[:port], e.g. "myns.servicebus.windows.net"
    namespace: str  # first label of the host ("myns"); the whole host for an IP address
    entity_path: str | None
    key_name: str | None
    has_key: bool  # a SharedAccessKey or a SharedAccessSignature is present (never its value)
    auth: Literal["key", "signature"]

    @property
    def host(self) -> str:
        """The host without a port (the SDK's ``fully_qualified_namespace``)."""
        return self.endpoint.rsplit(":", 1)[0] if ":" in self.endpoint else self.endpoint

    @property
    def port(self) -> int | None:
        return int(self.endpoint.rsplit(":", 1)[1]) if ":" in self.endpoint else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; contains no secret."""
        return {
            "kind": self.kind,
            "endpoint": self.endpoint,
            "namespace": self.namespace,
            "entity_path": self.entity_path,
            "key_name": self.key_name,
            "has_key": self.has_key,
            "auth": self.auth,
        }


def _pairs(text: str) -> dict[str, str]:
    """``Key=Value;…`` → canonical key → value. Errors name the part by position and key only."""
    pairs: dict[str, str] = {}
    parts = [p for p in text.strip().split(";") if p.strip()]
    if not parts:
        raise UserError(f"connection string is empty; expected {_EXPECTED}")
    for position, part in enumerate(parts, 1):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(
                f"connection string part {position} is malformed: expected Key=Value "
                f"separated by ';' ({_EXPECTED})"
            )
        canonical = _CANONICAL.get(key.lower(), key)
        if canonical in pairs:
            raise UserError(f"connection string has {canonical} more than once")
        pairs[canonical] = value.strip()
    return pairs


def _endpoint_host(value: str) -> str:
    if not value:
        raise UserError(f"connection string Endpoint is empty; expected {_EXPECTED}")
    parts = urlsplit(value)
    if parts.scheme.lower() != "sb" or not parts.hostname:
        raise UserError(
            "connection string Endpoint must look like sb://<namespace>.servicebus.windows.net/ "
            f"(got scheme {parts.scheme or 'none'!r})"
        )
    try:
        port = parts.port
    except ValueError:
        raise UserError("connection string Endpoint has an invalid port") from None
    return f"{parts.hostname}:{port}" if port else parts.hostname


def describe_connection_string(text: str) -> ConnectionInfo:
    """Validate an Event Hubs / Fabric Eventstream connection string and describe it.

    Raises :class:`UserError` naming the missing or bad part; neither the result nor any
    error message contains the key or the signature.
    """
    pairs = _pairs(text)
    if "Endpoint" not in pairs:
        raise UserError(f"connection string has no Endpoint; expected {_EXPECTED}")
    endpoint = _endpoint_host(pairs["Endpoint"])
    key_name = pairs.get("SharedAccessKeyName") or None
    has_key = bool(pairs.get("SharedAccessKey"))
    has_signature = bool(pairs.get("SharedAccessSignature"))
    if "SharedAccessKey" in pairs and not has_key:
        raise UserError("connection string SharedAccessKey is empty")
    if has_key and has_signature:
        raise UserError(
            "connection string has both SharedAccessKey and SharedAccessSignature; keep one"
        )
    if not has_key and not has_signature:
        raise UserError(
            "connection string has no SharedAccessKey (or SharedAccessSignature); "
            f"expected {_EXPECTED}"
        )
    if has_key and not key_name:
        raise UserError(
            "connection string has a SharedAccessKey but no SharedAccessKeyName; "
            "copy the whole string from the portal"
        )
    if has_signature and not pairs["SharedAccessSignature"].lower().startswith("sharedaccess"):
        raise UserError(
            "connection string SharedAccessSignature must start with 'SharedAccessSignature sr='"
        )
    entity = pairs.get("EntityPath") or None
    emulator = pairs.get("UseDevelopmentEmulator", "").lower() == "true"
    host = endpoint.rsplit(":", 1)[0] if ":" in endpoint else endpoint
    is_ip = host.replace(".", "").isdigit() or host == "localhost"
    namespace = host if is_ip else host.split(".", 1)[0]
    kind: ConnectionKind
    if emulator:
        kind = "emulator"
    elif host.lower().startswith("eventstream-") or (entity or "").lower().startswith("es_"):
        kind = "fabric"
    else:
        kind = "eventhubs"
    return ConnectionInfo(
        kind=kind,
        endpoint=endpoint,
        namespace=namespace,
        entity_path=entity,
        key_name=key_name,
        has_key=True,
        auth="key" if has_key else "signature",
    )
