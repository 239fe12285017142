"""The one ID generator: resource IDs, request IDs, account numbers and API keys."""

from __future__ import annotations

import hashlib
import os
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
    # Unique, not secret (every account's resources are scoped to it): the process's own
    # generator, several times cheaper than the system's per character (a policy firing over
    # thousands of disks names thousands of snapshots).
    return f"{prefix}-" + "".join(_fast_random.choices(_ID_ALPHABET, k=8))


def unique_ids(prefix: str, count: int, taken) -> list[str]:
    """`count` new distinct IDs; `taken(candidates)` says which of a set are already in use."""
    chosen: list[str] = []
    while len(chosen) < count:
        candidates = {resource_id(prefix) for _ in range(count - len(chosen))} - set(chosen)
        chosen.extend(candidates - set(taken(candidates)))
    return chosen


def is_resource_id(prefix: str, value: str) -> bool:
    return _PATTERNS[prefix].fullmatch(value) is not None


def request_id() -> str:
    """A UUID version 4 string. Request IDs need to be unique, not secret: the process's own
    generator is several times cheaper than uuid4()'s system call and object."""
    bits = _fast_random.getrandbits(128) & _V4_MASK | _V4_BITS
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_fast_random = random.Random(secrets.randbits(128))
# A forked process (`serve --workers`) must not repeat its parent's, or its siblings', sequence.
os.register_at_fork(after_in_child=lambda: _fast_random.seed(secrets.randbits(128)))
_V4_MASK = ~(0xF000 << 64 | 0xC000 << 48) & (2**128 - 1)
_V4_BITS = 0x4000 << 64 | 0x8000 << 48


def secret_id() -> str:
    """`AKID` + 32 letters and digits: 36 characters, like a real SecretId."""
    return "AKID" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(32))


def secret_key() -> str:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(32))


def session_token() -> str:
    return secrets.token_urlsafe(48)


def deal_name(day: str) -> str:
    """An order's name as the vendor's billing shows one: the day (YYYYMMDD) and 12 digits."""
    return day + "".join(secrets.choice(string.digits) for _ in range(12))


def account_uin() -> str:
    """A 12-digit decimal account number (UIN)."""
    return "1" + "".join(secrets.choice(string.digits) for _ in range(11))


def private_ip() -> str:
    """An address in 10.0.0.0/8, like a VPC's."""
    return "10." + ".".join(str(secrets.randbelow(254) + 1) for _ in range(3))


def public_ip() -> str:
    return "43." + ".".join(str(secrets.randbelow(254) + 1) for _ in range(3))


def instance_uuid() -> str:
    return request_id()


def derived_id(prefix: str, *seed: str) -> str:
    """The same `<prefix>-xxxxxxxx` for the same seed, e.g. an account's default VPC in a region."""
    digest = int.from_bytes(hashlib.sha256("/".join(seed).encode()).digest()[:8], "big")
    chars = []
    for _ in range(8):
        digest, index = divmod(digest, len(_ID_ALPHABET))
        chars.append(_ID_ALPHABET[index])
    return f"{prefix}-" + "".join(chars)
