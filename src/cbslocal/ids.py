"""The one ID generator: resource IDs, request IDs, account numbers and API keys."""

from __future__ import annotations

import re
import secrets
import string
import uuid

_ID_ALPHABET = string.ascii_lowercase + string.digits
_KEY_ALPHABET = string.ascii_letters + string.digits

# cbs-behavior.md §8.3: `<prefix>-` + 8 characters of [a-z0-9].
DISK, SNAPSHOT, POLICY, INSTANCE, IMAGE = "disk", "snap", "asp", "ins", "img"
_PATTERNS = {prefix: re.compile(rf"{prefix}-[a-z0-9]{{8}}")
             for prefix in (DISK, SNAPSHOT, POLICY, INSTANCE, IMAGE)}


def resource_id(prefix: str) -> str:
    return f"{prefix}-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def is_resource_id(prefix: str, value: str) -> bool:
    return _PATTERNS[prefix].fullmatch(value) is not None


def request_id() -> str:
    return str(uuid.uuid4())


def secret_id() -> str:
    """`AKID` + 32 letters and digits: 36 characters, like a real SecretId."""
    return "AKID" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(32))


def secret_key() -> str:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(32))


def session_token() -> str:
    return secrets.token_urlsafe(48)


def account_uin() -> str:
    """A 12-digit decimal account number (UIN)."""
    return "1" + "".join(secrets.choice(string.digits) for _ in range(11))
