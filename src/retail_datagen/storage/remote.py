"""Where fact tables are written: the data folder's ``export/`` or an Azure storage URL.

``--output abfss://container@account.dfs.core.windows.net/path`` (ADLS Gen2), an
``abfss://workspace@onelake.dfs.fabric.microsoft.com/...`` OneLake path, or
``az://container/path`` (Blob) puts the fact tables there as Delta tables; the data folder keeps
retail.duckdb, generation_state.json, the carried engine state and the dimension exports.
One options dict (object_store's keys) drives both obstore (our writes, listings, deletes) and
delta-rs (the Delta log), so both see the same account with the same credentials.

Credentials come from the environment only: a connection string
(``AZURE_STORAGE_CONNECTION_STRING``), an account key or SAS token (``AZURE_STORAGE_ACCOUNT_KEY``,
``AZURE_STORAGE_SAS_TOKEN``), or else a token from azure-identity's ``DefaultAzureCredential``.
They are never logged and never part of an error message (:func:`scrub`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import obstore
from obstore.store import AzureStore, LocalStore

from retail_datagen.errors import UserError

__all__ = [
    "AzureUrl",
    "FactLocation",
    "azure_options",
    "check_output_url",
    "fact_location",
    "is_remote_url",
    "parse_azure_url",
    "remote_errors",
    "scrub",
]

_REMOTE_SCHEMES = ("abfss", "abfs", "az")
_DFS_HOST = re.compile(r"([a-z0-9]{3,24})\.dfs\.core\.windows\.net")
_FABRIC_HOST = re.compile(r"([a-z0-9-]+)\.dfs\.fabric\.microsoft\.com")
_CONTAINER = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])?|\$root")
# options that hold a secret: scrubbed from every message
_SECRET_KEYS = ("account_key", "sas_key", "token", "client_secret")
# object_store client options (obstore takes them apart from the Azure config)
_CLIENT_KEYS = ("allow_http",)
_OBSTORE_CONFIG_KEYS = ("account_name", "account_key", "sas_key", "token", "use_fabric_endpoint")


def is_remote_url(value: str | None) -> bool:
    """True for an Azure storage URL (``abfss://``, ``abfs://``, ``az://``)."""
    return value is not None and urlsplit(value).scheme.lower() in _REMOTE_SCHEMES


@dataclass(frozen=True)
class AzureUrl:
    """An output URL taken apart: container, account (None: from the environment), path."""

    scheme: str
    container: str
    account: str | None
    path: str
    fabric: bool = False

    @property
    def display(self) -> str:
        """The URL as users see it: never a query string (a SAS token would be in it)."""
        domain = "fabric.microsoft.com" if self.fabric else "core.windows.net"
        host = f"@{self.account}.dfs.{domain}"
        where = f"{self.container}{host if self.account else ''}"
        return f"{self.scheme}://{where}/{self.path}".rstrip("/")


def parse_azure_url(url: str) -> AzureUrl:
    """Parse ``abfss://container@account.dfs.core.windows.net/path``, the OneLake form
    ``abfss://workspace@onelake.dfs.fabric.microsoft.com/path`` or ``az://container/path``;
    anything else is a one-line :class:`UserError` that never repeats a query string."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    shown = f"{scheme}://{parts.netloc.rsplit('@', 1)[-1]}{parts.path}" if scheme else "the URL"
    usage = (
        "use abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH, "
        "abfss://WORKSPACE@onelake.dfs.fabric.microsoft.com/PATH or az://CONTAINER/PATH"
    )
    if scheme not in _REMOTE_SCHEMES:
        raise UserError(f"--output {shown}: not an Azure storage URL; {usage}")
    if parts.query or parts.fragment or parts.password:
        raise UserError(
            f"--output {shown}: put credentials in the environment (AZURE_STORAGE_*), "
            "not in the URL"
        )
    path = parts.path.strip("/")
    if scheme == "az":
        container, account, fabric = parts.netloc, None, False
    else:
        container, _, host = parts.netloc.partition("@")
        host = host.lower()
        dfs, onelake = _DFS_HOST.fullmatch(host), _FABRIC_HOST.fullmatch(host)
        if not container or (dfs is None and onelake is None):
            raise UserError(f"--output {shown}: {usage}")
        account = (dfs or onelake).group(1)  # type: ignore[union-attr]
        fabric = onelake is not None
    if not fabric and _CONTAINER.fullmatch(container) is None:
        raise UserError(
            f"--output {shown}: {container!r} is not a valid container name "
            "(3-63 lowercase letters, digits and hyphens)"
        )
    if not path:
        path = ""
    return AzureUrl(scheme, container, account, path, fabric)


def check_output_url(url: str) -> str:
    """``url``'s display form once it parses and credentials for it are in the environment;
    else the one-line :class:`UserError` (checked before a run starts, without a network)."""
    target = parse_azure_url(url)
    azure_options(target)
    return target.display


def _connection_string(text: str) -> dict[str, str]:
    """The fields of an Azure Storage connection string (``Key=value;...``)."""
    fields: dict[str, str] = {}
    for item in text.split(";"):
        key, sep, value = item.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def _identity_token() -> str | None:
    """A storage token from azure-identity's DefaultAzureCredential, or None when it has none."""
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        return None
    try:
        credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        return str(credential.get_token("https://storage.azure.com/.default").token)
    except Exception:  # no identity in this environment: reported as missing credentials
        return None


def azure_options(target: AzureUrl, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """object_store options for ``target`` with credentials from ``env`` (default: the process
    environment); a one-line :class:`UserError` names what is missing, never a value."""
    env = os.environ if env is None else env
    conn = _connection_string(env.get("AZURE_STORAGE_CONNECTION_STRING", ""))
    account = (
        target.account or env.get("AZURE_STORAGE_ACCOUNT_NAME") or conn.get("AccountName") or ""
    )
    if not account:
        raise UserError(
            f"--output {target.display}: no storage account; use the abfss:// form or set "
            "AZURE_STORAGE_ACCOUNT_NAME (or AZURE_STORAGE_CONNECTION_STRING)"
        )
    options = {"account_name": account}
    if target.fabric:
        options["use_fabric_endpoint"] = "true"
    endpoint = env.get("AZURE_STORAGE_ENDPOINT") or conn.get("BlobEndpoint")
    if endpoint:
        options["endpoint"] = endpoint.rstrip("/")
        if endpoint.startswith("http://"):
            options["allow_http"] = "true"
    key = env.get("AZURE_STORAGE_ACCOUNT_KEY") or conn.get("AccountKey")
    sas = env.get("AZURE_STORAGE_SAS_TOKEN") or conn.get("SharedAccessSignature")
    if key:
        options["account_key"] = key
    elif sas:
        options["sas_key"] = sas.lstrip("?")
    else:
        token = env.get("AZURE_STORAGE_TOKEN") or _identity_token()
        if not token:
            raise UserError(
                f"--output {target.display}: no Azure credentials; set "
                "AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT_KEY or "
                "AZURE_STORAGE_SAS_TOKEN, or sign in for DefaultAzureCredential (az login, a "
                "managed identity, AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET)"
            )
        options["token"] = token
    return options


def scrub(text: str, options: Mapping[str, str]) -> str:
    """``text`` without any secret of ``options`` (also percent-decoded forms of a SAS)."""
    from urllib.parse import unquote

    for key in _SECRET_KEYS:
        secret = options.get(key)
        if secret:
            for form in {secret, unquote(secret)}:
                if len(form) >= 4:
                    text = text.replace(form, "***")
    return re.sub(r"(sig|se|sv|sp|skoid|sktid)=[^&\s\"']+", r"\1=***", text)


@dataclass(frozen=True)
class FactLocation:
    """The folder (local) or URL (remote) that holds one directory per fact table.

    ``store`` is an obstore store rooted there; ``storage_options`` are the same settings for
    delta-rs. Neither is ever shown: ``url`` is the display form, without secrets.
    """

    url: str
    store: Any = field(repr=False)
    storage_options: dict[str, str] = field(default_factory=dict, repr=False)
    local_root: Path | None = None

    @property
    def is_remote(self) -> bool:
        return self.local_root is None

    def table_uri(self, table: str) -> str:
        """The Delta table URI of ``table`` (a path locally)."""
        if self.local_root is not None:
            return str(self.local_root / table)
        return f"{self.url}/{table}"

    def delta_options(self) -> dict[str, str] | None:
        return dict(self.storage_options) if self.storage_options else None

    def names(self, table: str) -> list[str]:
        """The object names directly in ``table``'s directory (not the Delta log)."""
        with remote_errors(self):
            found: list[str] = []
            for batch in obstore.list_with_delimiter(self.store, f"{table}/")["objects"]:
                found.append(str(batch["path"]).rsplit("/", 1)[-1])
            return sorted(found)

    def delete(self, table: str, names: list[str]) -> None:
        if names:
            with remote_errors(self):
                obstore.delete(self.store, [f"{table}/{n}" for n in names])

    def check(self) -> None:
        """Fail now (one line) when the account cannot be reached or the credentials are
        refused, instead of after the first generated month."""
        with remote_errors(self):
            obstore.list_with_delimiter(self.store, None)


@contextmanager
def remote_errors(location: FactLocation) -> Iterator[None]:
    """Turn obstore and delta-rs failures into one-line :class:`UserError`s without secrets."""
    try:
        yield
    except UserError:
        raise
    except Exception as exc:  # the SDKs' own errors: classified, never shown raw
        text = str(exc)
        lowered = text.lower()
        if any(s in lowered for s in ("403", "401", "authoriz", "authenticat", "forbidden")):
            reason = "the credentials were refused (check AZURE_STORAGE_* or the identity's role)"
        elif any(s in lowered for s in ("containernotfound", "container not found", "404")):
            reason = "the container does not exist"
        elif any(s in lowered for s in ("dns", "connect", "timed out", "timeout", "resolve")):
            reason = "the storage account cannot be reached (check the account name and network)"
        else:
            first = scrub(text.splitlines()[0] if text else type(exc).__name__, _options(location))
            reason = first[:200]
        raise UserError(f"{location.url}: {reason}") from None


def _options(location: FactLocation) -> dict[str, str]:
    return location.storage_options


def _azure_store(target: AzureUrl, options: Mapping[str, str]) -> Any:
    config = {k: v for k, v in options.items() if k in _OBSTORE_CONFIG_KEYS}
    client = {k: v for k, v in options.items() if k in _CLIENT_KEYS}
    if "endpoint" in options:  # an emulator or a sovereign cloud: the container goes last
        config["endpoint"] = options["endpoint"]
    return AzureStore(
        target.container,
        prefix=target.path or None,
        config=config,  # type: ignore[arg-type]
        client_options=client,  # type: ignore[arg-type]
    )


def fact_location(export_dir: Path, output_url: str | None) -> FactLocation:
    """The location of the fact tables: ``output_url`` when set, else ``export_dir``."""
    if not output_url:
        export_dir.mkdir(parents=True, exist_ok=True)
        return FactLocation(str(export_dir), LocalStore(export_dir), {}, export_dir)
    target = parse_azure_url(output_url)
    options = azure_options(target)
    url = target.display
    if target.scheme == "az":  # delta-rs needs the account in the URL's options, not the host
        url = f"az://{target.container}/{target.path}".rstrip("/")
    store = _azure_store(target, options)
    return FactLocation(url, store, options, None)
