"""The one ID generator: resource IDs, request IDs, account numbers and API keys."""

from __future__ import annotations

import random
import re
import secrets
import string

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
    """A UUID version 4 string. Request IDs need to be unique, not secret: the process's own
    generator is several times cheaper than uuid4()'s system call and object."""
    bits = _fast_random.getrandbits(128) & _V4_MASK | _V4_BITS
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_fast_random = random.Random(secrets.randbits(128))
_V4_MASK = ~(0xF000 << 64 | 0xC000 << 48) & (2**128 - 1)
_V4_BITS = 0x4000 << 64 | 0x8000 << 48


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
