"""Connection-string description: kinds, validation errors naming the part, and no key anywhere."""

from __future__ import annotations

import json
import logging

import pytest

from retail_datagen.config.secrets import RedactingFilter, redact
from retail_datagen.errors import UserError
from retail_datagen.streaming.credentials import describe_connection_string

KEY = "Zm9vYmFyc2VjcmV0a2V5dmFsdWU9PQ=="
SIGNATURE = "SharedAccessSignature sr=sb%3a%2f%2fns&sig=c2lnbmF0dXJl&se=9999999999&skn=send"


@pytest.mark.parametrize(
    ("text", "kind", "endpoint", "namespace", "entity"),
    [
        (
            f"Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;"
            f"SharedAccessKey={KEY};EntityPath=retail-events",
            "eventhubs",
            "contoso.servicebus.windows.net",
            "contoso",
            "retail-events",
        ),
        (
            f"Endpoint=sb://eventstream-9f8e7d.servicebus.windows.net/;"
            f"SharedAccessKeyName=key_abc;SharedAccessKey={KEY};EntityPath=es_123",
            "fabric",
            "eventstream-9f8e7d.servicebus.windows.net",
            "eventstream-9f8e7d",
            "es_123",
        ),
        (  # Fabric recognised by the es_ entity even on an ordinary-looking host
            f"Endpoint=sb://ns1.servicebus.windows.net/;SharedAccessKeyName=k;"
            f"SharedAccessKey={KEY};EntityPath=es_abc",
            "fabric",
            "ns1.servicebus.windows.net",
            "ns1",
            "es_abc",
        ),
        (
            f"Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=test;SharedAccessKey={KEY};"
            "EntityPath=hub;UseDevelopmentEmulator=true",
            "emulator",
            "127.0.0.1:5672",
            "127.0.0.1",
            "hub",
        ),
        (  # lower-case keys, no entity, trailing separator
            f"endpoint=sb://ns2.servicebus.windows.net/;sharedaccesskeyname=k;sharedaccesskey={KEY};",
            "eventhubs",
            "ns2.servicebus.windows.net",
            "ns2",
            None,
        ),
    ],
)
def test_valid_strings_are_described_without_the_key(
    text: str, kind: str, endpoint: str, namespace: str, entity: str | None
) -> None:
    info = describe_connection_string(text)
    assert info.kind == kind
    assert info.endpoint == endpoint
    assert info.namespace == namespace
    assert info.entity_path == entity
    assert info.has_key is True
    data = info.to_dict()
    assert json.loads(json.dumps(data)) == data
    for rendering in (json.dumps(data), repr(info), str(info)):
        assert KEY not in rendering


def test_signature_strings_are_accepted() -> None:
    info = describe_connection_string(
        f"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessSignature={SIGNATURE};EntityPath=h"
    )
    assert info.auth == "signature"
    assert info.key_name is None
    assert "c2lnbmF0dXJl" not in json.dumps(info.to_dict())


def test_host_and_port_helpers() -> None:
    info = describe_connection_string(
        f"Endpoint=sb://localhost:5673;SharedAccessKeyName=a;SharedAccessKey={KEY}"
    )
    assert (info.host, info.port) == ("localhost", 5673)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("", "empty"),
        (f"SharedAccessKeyName=a;SharedAccessKey={KEY}", "Endpoint"),
        (f"Endpoint=;SharedAccessKeyName=a;SharedAccessKey={KEY}", "Endpoint"),
        (
            f"Endpoint=https://ns.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey={KEY}",
            "Endpoint",
        ),
        (f"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKey={KEY}", "SharedAccessKeyName"),
        ("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=a", "SharedAccessKey"),
        (
            "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=",
            "SharedAccessKey",
        ),
        (
            f"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey={KEY};"
            f"SharedAccessSignature={SIGNATURE}",
            "SharedAccessSignature",
        ),
        ("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=a;pasted-key", "part 3"),
        (f"Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey={KEY};=x", "part 4"),
        (
            f"Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey={KEY};SharedAccessKey={KEY}",
            "more than once",
        ),
        (f"Endpoint=sb://ns:99999/;SharedAccessKeyName=a;SharedAccessKey={KEY}", "port"),
    ],
)
def test_invalid_strings_name_the_part_and_never_the_key(text: str, part: str) -> None:
    with pytest.raises(UserError, match=part) as err:
        describe_connection_string(text)
    assert KEY not in str(err.value)
    assert "c2lnbmF0dXJl" not in str(err.value)


def test_no_key_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    text = f"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey={KEY}"
    logger = logging.getLogger("tests.credentials")  # outside the CLI-configured tree
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(RedactingFilter())
    info = describe_connection_string(text)
    logger.info("connecting with %s (%s)", text, info.to_dict())
    try:
        describe_connection_string(text.replace("Endpoint=sb://", "Endpoint=http://"))
    except UserError as exc:
        logger.warning("rejected: %s", exc)
    assert caplog.records
    assert KEY not in caplog.text
    assert "SharedAccessKey=***" in caplog.text


def test_redaction_masks_keys_and_signatures() -> None:
    text = f"Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey={KEY};EntityPath=h"
    assert redact(text) == "Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=***;EntityPath=h"
    assert "c2lnbmF0dXJl" not in redact(SIGNATURE)
