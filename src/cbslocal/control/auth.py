"""Who may use the control plane (/_cbslocal/): its operator — not the network, not a web page.

The admin token. Generated at the first start (unless given by `serve --admin-token` /
CBSLOCAL_ADMIN_TOKEN, which replaces the one in force), printed once and saved in the data dir's
`admin-token` file for `cbslocal admin`. The store keeps only its SHA-256 (store/shared.py), so
that every process sharing one PostgreSQL accepts the same token, and nothing exported holds it.

The checks, before any routing (docs/admin-api.md, "Authentication"):
- beyond loopback (`--host` not 127.0.0.1, ::1, localhost), every request but `GET /health` needs
  the token: `Authorization: Bearer <token>` or `X-CBSLocal-Token: <token>` (401);
- answers that hold secret keys (the state export, new accounts and keys) need it everywhere;
- on loopback, a request without the token must name the server in its Host (a DNS-rebound name
  would not: 403) and come from the server's own origin if it has an Origin (a web page's fetch:
  403);
- every POST and DELETE must be `Content-Type: application/json`, which a page cannot send to
  another origin without a CORS preflight, and the control plane answers none (415).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cbslocal.store import shared

TOKEN_FILE = "admin-token"
TOKEN_HEADER = b"x-cbslocal-token"
# A token travels in an HTTP header: printable ASCII without spaces, long enough not to be guessed.
_TOKEN_SHAPE = re.compile(r"[\x21-\x7e]{16,512}")
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\]")
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
# (method, path) of the answers that hold a SecretKey or a token.
_SECRET_ANSWERS = (("GET", re.compile(r"/state")), ("POST", re.compile(r"/accounts")),
                   ("POST", re.compile(r"/accounts/[^/]*/keys")))
WHERE_THE_TOKEN_IS = (
    "send the admin token as `Authorization: Bearer <token>` (or `X-CBSLocal-Token: <token>`); "
    "it is in the file admin-token of the server's data dir (--data-dir), printed when the token "
    "was generated, or the one given by --admin-token (`cbslocal admin` reads the file, --token "
    "or CBSLOCAL_ADMIN_TOKEN)")


class Refused(Exception):
    """A request the checks refuse: its HTTP status and why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# --- the token -------------------------------------------------------------------------------------
def check_token_shape(token: str) -> str:
    """The token as given, or ValueError saying what a token must be."""
    if not _TOKEN_SHAPE.fullmatch(token):
        raise ValueError("an admin token is 16 to 512 printable ASCII characters, without spaces")
    return token


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def token_file(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def prepare_token(conn, data_dir: Path, given: str | None) -> str | None:
    """At a start that publishes its settings, in its write transaction (the caller tells the
    other processes sharing the store: store/shared.py): a given token becomes the one in force;
    without one, a token is generated when the store has none yet. Returns the generated token
    (to be printed once), or None. ValueError: the given token is not one (check_token_shape)."""
    if given is not None:
        check_token_shape(given)
    stored = shared.get(conn, shared.ADMIN_TOKEN_SHA256)
    if given is not None:
        if stored is None or not hmac.compare_digest(stored, digest(given)):
            shared.put(conn, shared.ADMIN_TOKEN_SHA256, digest(given))
        _forget_other(token_file(data_dir), given)
        return None
    if stored is not None:
        return None
    generated = secrets.token_urlsafe(32)
    shared.put(conn, shared.ADMIN_TOKEN_SHA256, digest(generated))
    # Saved before the commit: a token nobody could find again is never put in force.
    _save(token_file(data_dir), generated)
    return generated


def _save(path: Path, token: str) -> None:
    """Written readable by this user only, and replaced whole (never seen half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write(token + "\n")
    os.chmod(partial, 0o600)  # if it existed with other modes
    os.replace(partial, path)


def _forget_other(path: Path, given: str) -> None:
    """A saved token the given one replaced would no longer work: `cbslocal admin` must not send
    it. The given token itself is not written: its owner keeps it."""
    try:
        if read_token_file(path) != given:
            path.unlink()
    except FileNotFoundError:
        pass


def read_token_file(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip() or None
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None


# --- the checks ------------------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(text: str) -> str:
    """A name the server may be called by (`--admin-host`), lower-cased; ValueError otherwise."""
    name = text.strip().lower()
    if not _HOST_NAME.fullmatch(name) or len(name) > 253:
        raise ValueError(f"{text!r} is not a host name (e.g. cbslocal.internal, [fd00::1])")
    return name.strip("[]")


@dataclass
class Guard:
    """The checks of one server: `runtime` gives the store and its generation (a token replaced by
    another process is read again when the shared state moves on)."""
    runtime: object
    loopback: bool
    names: frozenset[str]  # what a loopback server may be called, without brackets
    _known: tuple[int, str | None] = (-2, None)  # (generation, SHA-256 of the token in force)

    @classmethod
    def of(cls, runtime) -> "Guard":
        settings = runtime.settings
        given = {settings.host, *settings.admin_hosts}
        names = LOOPBACK_NAMES | {name.lower().strip("[]") for name in given}
        return cls(runtime, is_loopback(settings.host), frozenset(names))

    def check(self, scope: dict, path: str) -> None:
        """Raises Refused unless the request may go on to routing."""
        method, headers = scope["method"], _headers(scope)
        presented = _presented_token(headers)
        valid = presented is not None and self._is_the_token(presented)
        if not valid:
            self._check_without_token(scope, headers, method, path, presented is not None)
        if method in ("POST", "DELETE") and not _is_json(headers.get(b"content-type")):
            raise Refused(415, "the control plane takes `Content-Type: application/json` on POST "
                               "and DELETE, with a JSON object or no body")

    def _check_without_token(self, scope, headers, method: str, path: str, presented: bool) -> None:
        if method == "GET" and path == "/health":
            return  # liveness probes: the version is all it tells
        if not self.loopback:
            raise Refused(401, ("the admin token is not valid; " if presented else
                                "cbslocal listens beyond loopback: the control plane needs the "
                                "admin token; ") + WHERE_THE_TOKEN_IS)
        port = _server_port(scope, self.runtime.settings.port)
        if not self._names_the_server(headers.get(b"host"), port):
            raise Refused(403, "the Host header does not name this server (127.0.0.1, localhost, "
                               "[::1] or an --admin-host name): a DNS-rebound name is refused")
        origin = headers.get(b"origin")
        if origin is not None and not self._is_own_origin(origin, port):
            raise Refused(403, "the Origin is not this server's own: the control plane does not "
                               "answer web pages")
        if any(verb == method and pattern.fullmatch(path) for verb, pattern in _SECRET_ANSWERS):
            raise Refused(401, ("the admin token is not valid; " if presented else
                                "this answer holds secret keys: it needs the admin token; ")
                          + WHERE_THE_TOKEN_IS)

    def _is_the_token(self, presented: str) -> bool:
        stored = self._token_digest()
        return stored is not None and hmac.compare_digest(digest(presented), stored)

    def _token_digest(self) -> str | None:
        generation = self.runtime.generation
        if self._known[0] != generation:
            with self.runtime.store.read() as conn:
                self._known = (generation, shared.get(conn, shared.ADMIN_TOKEN_SHA256))
        return self._known[1]

    def _names_the_server(self, host: bytes | None, port: int) -> bool:
        if host is None:
            return False
        name, _, given_port = _split_host(host.decode("latin-1").strip().lower())
        return name in self.names and given_port in ("", str(port))

    def _is_own_origin(self, origin: bytes, port: int) -> bool:
        try:
            parts = urlsplit(origin.decode("latin-1").strip().lower())
            origin_port = parts.port
        except ValueError:
            return False
        return (parts.scheme == "http" and parts.hostname in self.names
                and (origin_port or 80) == port and parts.path in ("", "/")
                and not parts.query and not parts.username)


def _headers(scope: dict) -> dict[bytes, bytes]:
    """The request's headers by lower-case name (a repeated one: its first value)."""
    found: dict[bytes, bytes] = {}
    for name, value in scope.get("headers", ()):
        found.setdefault(name.lower(), value)
    return found


def _presented_token(headers: dict[bytes, bytes]) -> str | None:
    authorization = headers.get(b"authorization", b"").decode("latin-1").strip()
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    token = headers.get(TOKEN_HEADER, b"").decode("latin-1").strip()
    return token or None


def _is_json(content_type: bytes | None) -> bool:
    if content_type is None:
        return False
    media_type = content_type.decode("latin-1").split(";", 1)[0].strip().lower()
    return media_type == "application/json"


def _split_host(host: str) -> tuple[str, str, str]:
    """(name without brackets, ':', port) of a Host header."""
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest[:1], rest[1:] if rest.startswith(":") else ("?" if rest else "")
    return host.rpartition(":") if ":" in host else (host, "", "")


def _server_port(scope: dict, configured: int) -> int:
    server = scope.get("server")
    return server[1] if server and len(server) > 1 and server[1] else configured
