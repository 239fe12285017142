"""uvicorn's httptools protocol, with the limits that keep one client from holding the server.

httptools buffers whatever arrives until the headers are complete, and uvicorn waits for them, and
for a body, as long as the client likes: one client could fill memory with an endless header, and
a few hundred silent or dripping connections could use up the process's file descriptors. Here:

- the request line and headers together may hold MAX_HEAD_BYTES; more gets `431` and a close;
- the headers must be complete HEADER_TIMEOUT after the connection opened or the previous response
  ended, and the body BODY_TIMEOUT after its headers; past that, `408` (when part of a request
  arrived) and a close. uvicorn's own keep-alive timer still closes an idle connection sooner.

Everything at or above the API level (sizes of queries and bodies, signatures) stays the gateway's
business (gateway/http.py, gateway/request.py): those get Tencent's error envelope.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

# The request line and headers, in bytes. The largest legitimate request line carries a GET query
# of 32 KB (protocol.md §2, MAX_GET_QUERY in gateway/request.py); the official clients' headers
# are 1-2 KB (Authorization, X-TC-*, User-Agent), a proxy may add a few more. 64 KiB holds the
# largest legitimate request with 30 KiB to spare for headers, yet keeps a connection's buffered
# head small (at most this plus one read of the socket).
MAX_HEAD_BYTES = 64 * 1024
# The clients send their headers in one write: 10 s is ample on any network, and short enough for
# hundreds of slow or silent connections not to pile up.
HEADER_TIMEOUT = 10.0
# The largest body (10 MB, TC3) in 60 s is about 170 KiB/s: far below any link a client of a local
# emulator uses, while a client dripping a body is cut off within a minute.
BODY_TIMEOUT = 60.0
# Beyond it, a large body gets a second per MiB (a 1 GiB state import, about 17 minutes): a client
# must send at least this fast.
MIN_BODY_RATE = 1024 * 1024

HEADER_TIMEOUT_VARIABLE = "CBSLOCAL_HEADER_TIMEOUT"  # hidden: tests shorten the timeouts with them
BODY_TIMEOUT_VARIABLE = "CBSLOCAL_BODY_TIMEOUT"


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a request whose head is over the limit."""


class GatewayProtocol(HttpToolsProtocol):
    """One connection. At most one timer runs: the header timer while the next request's head is
    awaited and nothing is being answered, the body timer while a request's body is awaited."""

    max_head_bytes: int = MAX_HEAD_BYTES
    header_timeout: float = HEADER_TIMEOUT
    body_timeout: float = BODY_TIMEOUT

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._awaiting_head = True  # the bytes that come next are a request line and headers
        # Bytes received while awaiting the head: at most one read short of the truth (a read that
        # completes one head and begins the next is not counted for the next); a complete head's
        # parsed size is checked too.
        self._head_bytes = 0
        self._request_begun = False  # a byte of the current request has arrived
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0  # when the timer fires (loop time)
        self._deadline = 0.0  # when the armed limit expires (loop time)
        self._expire: Callable[[], None] | None = None  # what happens then; None: disarmed

    # --- connection ---------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm(self.header_timeout, self._header_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """uvicorn's, with the head's size counted and the refusal of one over the limit."""
        self._unset_keepalive_if_required()
        if self._awaiting_head:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as failure:
            if isinstance(failure.__context__, _HeadTooLarge):
                self._refuse_oversized_head()
            else:
                self._invalid_request()
            return
        except httptools.HttpParserError:
            self._invalid_request()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        if self._awaiting_head and self._head_bytes > self.max_head_bytes:
            self._refuse_oversized_head()

    def _invalid_request(self) -> None:
        message = "Invalid HTTP request received."
        self.logger.warning(message)
        self.send_400_response(message)

    # --- parser callbacks ---------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._request_begun = True

    def on_headers_complete(self) -> None:
        # One read can hold a whole head over the limit: measure it as parsed.
        if self._parsed_head_size() > self.max_head_bytes:
            raise _HeadTooLarge
        self._awaiting_head = False
        self._head_bytes = 0
        if self._answering():
            # Pipelined: reading pauses until the requests before it are answered; its body
            # timer starts when its turn comes (on_response_complete).
            self._disarm()
        else:
            self._arm(self._body_time(self.headers), self._body_timed_out)
        super().on_headers_complete()

    def _body_time(self, headers) -> float:
        """BODY_TIMEOUT, and longer for a large body at MIN_BODY_RATE (the control plane takes a
        state document of up to 1 GiB)."""
        declared = next((value for name, value in headers if name == b"content-length"), b"")
        size = int(declared) if declared.isdigit() and len(declared) < 16 else 0
        return self.body_timeout + size / MIN_BODY_RATE

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_head = True
        self._request_begun = False
        self._disarm()
        if not self._answering() and not self.transport.is_closing():
            self._arm(self.header_timeout, self._header_timed_out)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may start a pipelined request
        if self.transport.is_closing():
            return
        if self._answering():
            if self.cycle.more_body:  # the pipelined request now being served awaits its body
                self._arm(self._body_time(self.cycle.scope["headers"]), self._body_timed_out)
        elif self._awaiting_head:  # idle: the next request's head is due from now
            self._arm(self.header_timeout, self._header_timed_out)

    def _answering(self) -> bool:
        """A request is being answered (its response is not complete yet)."""
        return self.cycle is not None and not self.cycle.response_complete

    def _parsed_head_size(self) -> int:
        # METHOD SP target SP HTTP/1.1 CRLF, then name ": " value CRLF per header.
        request_line = len(self.parser.get_method()) + len(self.url) + 12
        return request_line + sum(len(name) + len(value) + 4 for name, value in self.headers)

    # --- limits -------------------------------------------------------------------------------
    # One timer per connection, rarely touched: arming sets a deadline, and the timer, when it
    # fires early (the deadline moved on meanwhile, as it does at every request on a kept-alive
    # connection), sleeps again until the deadline. A deadline only moves earlier than the timer
    # when a shorter timeout follows a longer one; only then is the timer set anew. Creating and
    # cancelling two timers per request cost more than a tenth of a small request's time.
    def _arm(self, delay: float, expire: Callable[[], None]) -> None:
        self._deadline = self.loop.time() + delay
        self._expire = expire
        if self._timer is not None and self._timer_at <= self._deadline:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = self._deadline
        self._timer = self.loop.call_at(self._deadline, self._wake)

    def _disarm(self) -> None:
        self._expire = None  # a timer that fires finds nothing to do

    def _cancel_timer(self) -> None:
        self._expire = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _wake(self) -> None:
        self._timer = None
        if self._expire is None:
            return
        if self.loop.time() < self._deadline:
            self._timer_at = self._deadline
            self._timer = self.loop.call_at(self._deadline, self._wake)
            return
        expire, self._expire = self._expire, None
        expire()

    def _header_timed_out(self) -> None:
        if self.transport.is_closing():
            return
        if self._request_begun:
            self._answer_and_close(408, "The request headers were not received in time.")
        else:  # a silent connection: a 408 could cross a request the client is just sending
            self.transport.close()

    def _body_timed_out(self) -> None:
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_started:
            self._answer_and_close(408, "The request body was not received in time.")
        else:
            self.transport.close()

    def _refuse_oversized_head(self) -> None:
        self._disarm()
        if self.transport.is_closing():
            return
        if self._answering():  # a pipelined head: a 431 would cut into the response being sent
            self.transport.close()
            return
        self._answer_and_close(
            431, f"The request line and headers exceed {self.max_head_bytes} bytes.")

    def _answer_and_close(self, status: int, message: str) -> None:
        """A plain-text answer below the API level (the client's HTTP was at fault), and a close."""
        body = message.encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [b"content-type: text/plain; charset=utf-8\r\n",
                 b"content-length: %d\r\n" % len(body), b"connection: close\r\n\r\n", body]
        self.transport.write(b"".join(head))
        self.transport.close()


def gateway_protocol(*, max_head_bytes: int = MAX_HEAD_BYTES,
                     header_timeout: float = HEADER_TIMEOUT,
                     body_timeout: float = BODY_TIMEOUT) -> type[GatewayProtocol]:
    """The protocol class (for `uvicorn.Config(http=...)`) with these limits."""
    return type("GatewayProtocol", (GatewayProtocol,), {
        "max_head_bytes": max_head_bytes, "header_timeout": header_timeout,
        "body_timeout": body_timeout})


def protocol_from_environment(environ: Mapping[str, str] = os.environ) -> type[GatewayProtocol]:
    """The protocol with the default limits, or with the timeouts the hidden
    CBSLOCAL_HEADER_TIMEOUT and CBSLOCAL_BODY_TIMEOUT variables give (seconds)."""
    return gateway_protocol(
        header_timeout=_seconds(environ, HEADER_TIMEOUT_VARIABLE, HEADER_TIMEOUT),
        body_timeout=_seconds(environ, BODY_TIMEOUT_VARIABLE, BODY_TIMEOUT))


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name)
    if text is None:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise ValueError(f"{name} must be a positive number of seconds, not {text!r}")
    return seconds


def raise_open_file_limit() -> None:
    """Take the soft limit on open files up to the hard one. Every connection holds a descriptor,
    and the usual soft limit (1024) is kept low only for programs that use select(), which the
    server (uvloop: epoll/kqueue) does not. Where the hard limit is unlimited (macOS), 10240 (its
    OPEN_MAX) is asked for. Left as it is if the system refuses."""
    try:
        import resource
    except ImportError:  # not a POSIX system
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 10240 if hard == resource.RLIM_INFINITY else hard
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError):
        pass
