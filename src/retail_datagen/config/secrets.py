"""The Event Hubs connection string: where it comes from, and keeping it out of every log line.

Precedence (SPEC §3): Azure Key Vault (``realtime.use_keyvault``) → the
``AZURE_EVENTHUB_CONNECTION_STRING`` environment variable (also read from a ``.env`` file, without
changing ``os.environ``) → ``realtime.azure_connection_string`` in the config file.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from dotenv import dotenv_values
from pydantic import SecretStr

from retail_datagen.config.models import RetailConfig
from retail_datagen.errors import UserError

__all__ = [
    "ENV_VAR",
    "RedactingFilter",
    "install_redaction",
    "redact",
    "resolve_connection_string",
]

ENV_VAR = "AZURE_EVENTHUB_CONNECTION_STRING"
MASK = "***"

# key=value pairs whose value is a secret; the value runs to ';', '&', a quote, whitespace or
# the end (base64 keys and SAS signatures never contain those characters).
_SECRET_PAIR = re.compile(
    r"(?P<key>\b(?:SharedAccessKey|AccountKey|password|pwd|sig)\s*=\s*)(?P<value>[^;&\s\"']+)",
    re.IGNORECASE,
)


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret value replaced by ``***`` (``SharedAccessKey=***``).

    ``extra_secrets`` are literal values to mask wherever they appear (e.g. a whole
    connection string that came from a vault).
    """
    out = _SECRET_PAIR.sub(lambda m: m.group("key") + MASK, text)
    for secret in extra_secrets:
        if secret:
            out = out.replace(secret, MASK)
    return out


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message, arguments and traceback text.

    The message is formatted once here (``getMessage``) and stored back with no arguments, so
    no handler or formatter can see a secret that was passed as an argument.
    """

    def __init__(self, name: str = "", extra_secrets: Iterable[str] = ()) -> None:
        super().__init__(name)
        self.extra_secrets = tuple(s for s in extra_secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message, self.extra_secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.extra_secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.extra_secrets)
        return True


def install_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach a :class:`RedactingFilter` to every handler of ``logger`` (default: root).

    Filters on handlers (not only on the logger) also catch records propagated from children.
    """
    target = logger or logging.getLogger()
    redacting = RedactingFilter()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redacting)
    target.addFilter(redacting)
    return redacting


def _from_keyvault(vault_url: str, secret_name: str) -> SecretStr:
    try:
        from azure.identity import DefaultAzureCredential
        from azure.keyvault.secrets import SecretClient
    except ImportError:
        raise UserError(
            "realtime.use_keyvault is true but the Key Vault client is not installed; "
            "run: pip install 'retail-datagen[keyvault]'"
        ) from None
    try:
        client = SecretClient(vault_url=vault_url, credential=DefaultAzureCredential())
        value = client.get_secret(secret_name).value
    except Exception as exc:  # SDK errors: name the vault and secret, never echo a value
        reason = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        raise UserError(
            f"cannot read secret {secret_name!r} from Key Vault {vault_url}: "
            f"{type(exc).__name__}{': ' + reason[:200] if reason else ''}"
        ) from None
    if not value:
        raise UserError(f"Key Vault secret {secret_name!r} in {vault_url} is empty")
    return SecretStr(str(value).strip())


def resolve_connection_string(
    config: RetailConfig,
    *,
    environ: Mapping[str, str] | None = None,
    dotenv_path: Path = Path(".env"),
) -> SecretStr | None:
    """The connection string from the first source that has one, or None when none has."""
    realtime = config.realtime
    if realtime.use_keyvault:
        return _from_keyvault(realtime.keyvault_url, realtime.keyvault_secret_name)
    env = os.environ if environ is None else environ
    value = (env.get(ENV_VAR) or "").strip()
    if not value and dotenv_path.is_file():
        value = (dotenv_values(dotenv_path).get(ENV_VAR) or "").strip()
    if value:
        return SecretStr(value)
    configured = realtime.azure_connection_string.get_secret_value().strip()
    return SecretStr(configured) if configured else None
