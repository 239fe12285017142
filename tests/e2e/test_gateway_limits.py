"""The API gateway cannot be frozen or crashed by what one client sends (a real server process;
one test drives the HTTP protocol in this process, to choose exactly how the bytes are read).

- An Authorization header of 100,000 spaces is refused at once, and a normal client sent
  meanwhile is served (the signature parser used to be quadratic and blocked the event loop).
- A request line plus headers over the limit get `431` and the connection is closed.
- Non-ASCII signatures (TC3 header bytes, a percent-encoded v1 parameter) are a plain
  `AuthFailure.SignatureFailure`, never an InternalError with a traceback.
- Bodies and queries over protocol.md §2's limits get `RequestSizeLimitExceeded` (HTTP 200).
- Connections that are silent, or send their headers or body too slowly, are closed after the
  header or body timeout (shortened here through the hidden CBSLOCAL_*_TIMEOUT variables), and
  hundreds of them do not keep a normal client from being served.

Timing bounds are generous on purpose (CI machines are slow and loaded): each is one the fixed
server meets by orders of magnitude and the bug misses entirely. bench/gateway_limits.py measures.
"""

from __future__ import annotations

import json
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from tencentcloud.cbs.v20170312 import models

from tests.e2e import rawsign
from tests.e2e.server import DEFAULT_SECRET_ID as SID
from tests.e2e.server import DEFAULT_SECRET_KEY as SKEY
from tests.e2e.server import Server, cbs_client

HEADER_TIMEOUT = 2.0  # the impatient server's; a normal request needs milliseconds
BODY_TIMEOUT = 2.0
CLOSE_WITHIN = 20.0  # how long a connection due to be closed may take: generous, never tight
SERVED_WITHIN = 10.0  # how long a normal call may take while the server is under attack


# --- servers -------------------------------------------------------------------------------------
def _start(data_dir, **environment: str) -> Server:
    with pytest.MonkeyPatch.context() as patch:  # Server.start passes os.environ to the process
        for name, value in environment.items():
            patch.setenv(name, value)
        server = Server(data_dir, timing="instant").start()
    server.wait_listening()
    return server


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """A server with the default limits and timeouts."""
    server = _start(tmp_path_factory.mktemp("gateway-limits") / "data")
    yield server
    rawsign.close_connections()
    server.stop()
    assert "Traceback" not in server.log_text(), server.log_text()[-5000:]


@pytest.fixture(scope="module")
def impatient_gateway(tmp_path_factory):
    """A server whose header and body timeouts are short enough to wait for in a test."""
    server = _start(tmp_path_factory.mktemp("gateway-timeouts") / "data",
                    CBSLOCAL_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
                    CBSLOCAL_BODY_TIMEOUT=str(BODY_TIMEOUT))
    yield server
    server.stop()
    assert "Traceback" not in server.log_text(), server.log_text()[-5000:]


# --- raw HTTP ------------------------------------------------------------------------------------
@dataclass
class RawReply:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def envelope(self) -> dict:
        assert self.status == 200, (self.status, self.body[:300])
        assert self.headers["content-type"] == "application/json"
        return json.loads(self.body)["Response"]


def serialize(signed: rawsign.Signed) -> bytes:
    """The request as bytes; header values are sent as latin-1, like http.client does."""
    lines = [f"{signed.method} {signed.path} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in signed.headers.items()]
    if signed.body or signed.method == "POST":
        lines.append(f"Content-Length: {len(signed.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + signed.body


def connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=CLOSE_WITHIN)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def send_quietly(sock: socket.socket, data: bytes) -> None:
    """Send what the server will read; it may refuse and close before reading the rest."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def read_reply(sock: socket.socket) -> RawReply:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError(f"connection closed after {buffer[:200]!r}")
        buffer += chunk
    head, _, body = buffer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return RawReply(int(status_line.split(" ")[1]), headers, body[:length])


def closed_by_server(sock: socket.socket, within: float = CLOSE_WITHIN) -> bytes:
    """Wait until the server closes the connection; return what it sent before (asserting it
    did close within `within` seconds)."""
    sock.settimeout(within)
    received = b""
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk
    except ConnectionResetError:
        return received
    except socket.timeout:
        pass
    pytest.fail(f"the server kept the connection open for {within} s (it sent {received[:200]!r})")


def tc3_describe(server: Server, **kwargs) -> rawsign.Signed:
    kwargs.setdefault("params", {"Limit": 1})
    return rawsign.tc3(SID, SKEY, host=server.endpoint, action="DescribeDisks", **kwargs)


def describe_disks(server: Server) -> float:
    """A normal client's call through the official SDK; returns how long it took."""
    started = time.monotonic()
    response = cbs_client(server).DescribeDisks(models.DescribeDisksRequest())
    assert response.TotalCount is not None
    return time.monotonic() - started


# --- a hostile Authorization header --------------------------------------------------------------
def _spaces_exchange(server: Server, spaces: int) -> tuple[str, float]:
    """An Authorization of `Credential=` and `spaces` spaces: (the answer, seconds it took)."""
    signed = tc3_describe(server)
    authorization = "TC3-HMAC-SHA256 Credential=" + " " * spaces + "x"
    started = time.monotonic()
    with connect(server) as sock:
        send_quietly(sock, serialize(signed._replace(headers={**signed.headers,
                                                               "Authorization": authorization})))
        reply = read_reply(sock)
    answer = str(reply.status) if reply.status != 200 else reply.envelope()["Error"]["Code"]
    return answer, time.monotonic() - started


def test_spaces_in_authorization_are_answered_at_once_and_others_are_served(gateway):
    """100,000 spaces are over the head limit (431); 60,000 are not, and reach the signature
    parser. The quadratic parser spent seconds on each, blocking the event loop meanwhile."""
    with ThreadPoolExecutor(6) as pool:
        hostile = [pool.submit(_spaces_exchange, gateway, spaces)
                   for spaces in (100_000, 60_000) for _ in range(3)]
        time.sleep(0.2)  # the hostile requests are in the server
        normal = describe_disks(gateway)
        outcomes = [future.result(timeout=120) for future in hostile]
    assert [answer for answer, _ in outcomes] == ["431"] * 3 + ["AuthFailure.SignatureFailure"] * 3
    assert max(elapsed for _, elapsed in outcomes) < SERVED_WITHIN / 2, outcomes
    assert normal < SERVED_WITHIN / 2


# --- header size ---------------------------------------------------------------------------------
def _refused_for_its_size(server: Server, request: bytes) -> None:
    with connect(server) as sock:
        sender = threading.Thread(target=send_quietly, args=(sock, request))
        sender.start()
        reply = read_reply(sock)
        assert reply.status == 431, reply
        assert reply.headers["content-type"].startswith("text/plain")
        assert reply.headers["connection"] == "close"
        closed_by_server(sock)
        sender.join(timeout=CLOSE_WITHIN)


def test_a_megabyte_header_is_refused_and_the_connection_closed(gateway):
    request = (b"POST / HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 1024 * 1024
               + b"\r\nContent-Length: 0\r\n\r\n")
    _refused_for_its_size(gateway, request)
    assert describe_disks(gateway) < SERVED_WITHIN


def test_headers_over_the_limit_are_refused_however_they_are_split(gateway):
    """Many small headers (the total counts, not each one), and a request line of 100 KB."""
    many = b"".join(b"X-Header-%d: %s\r\n" % (i, b"v" * 90) for i in range(1000))
    _refused_for_its_size(gateway, b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    _refused_for_its_size(gateway, b"GET /?" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")


class _Transport:
    """Just enough of an asyncio transport to drive the protocol in this process."""

    def __init__(self):
        self.written, self.closing = b"", False

    def get_extra_info(self, name, default=None):
        addresses = {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 4599)}
        return addresses.get(name, default)

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


@pytest.mark.parametrize("end, reads", [(b"\r\n\r\n", 1), (b"", 40)], ids=["whole", "unfinished"])
def test_an_oversized_head_is_refused_in_one_read_or_many(end, reads):
    """One read can bring a whole head over the limit (measured once parsed), or many reads one
    that never ends (counted as it arrives); both are refused before any request is made of it.
    In this process, so that the reads are exactly these."""
    import asyncio

    import uvicorn
    from uvicorn.server import ServerState

    from cbslocal.gateway.protocol import MAX_HEAD_BYTES, gateway_protocol

    async def app(scope, receive, send):
        raise AssertionError("an oversized request reached the application")

    loop = asyncio.new_event_loop()
    try:
        protocol = gateway_protocol()(uvicorn.Config(app), ServerState(), {}, _loop=loop)
        transport = _Transport()
        protocol.connection_made(transport)
        head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * MAX_HEAD_BYTES + end
        size = -(-len(head) // reads)
        for start in range(0, len(head), size):
            if transport.closing:
                break
            protocol.data_received(head[start:start + size])
        assert transport.written.startswith(b"HTTP/1.1 431 "), transport.written[:100]
        assert transport.closing
        protocol.connection_lost(None)
    finally:
        loop.close()


def test_headers_of_real_clients_and_a_32_kb_query_fit(gateway):
    """A GET query of the largest size protocol.md §2 allows, with the headers clients send and
    some more, passes the header limit and is answered by the API."""
    signed = tc3_describe(gateway, method="GET", raw_query="Limit=1" + "&" * (32 * 1024 - 7),
                          extra_headers={f"X-Proxy-{i}": "p" * 100 for i in range(40)})
    with connect(gateway) as sock:
        sock.sendall(serialize(signed))
        response = read_reply(sock).envelope()
    assert "Error" not in response, response


# --- non-ASCII signatures ------------------------------------------------------------------------
def _signature_failure(server: Server, signed: rawsign.Signed) -> None:
    with connect(server) as sock:
        sock.sendall(serialize(signed))
        response = read_reply(sock).envelope()
    assert response["Error"]["Code"] == "AuthFailure.SignatureFailure", response


def test_non_ascii_signatures_are_signature_failures(gateway):
    tc3 = tc3_describe(gateway)
    authorization = tc3.headers["Authorization"]
    for signature in ("\u00e9" * 64, "\u00ff", "0" * 63 + "\u00e9"):
        forged = authorization.rsplit("Signature=", 1)[0] + "Signature=" + signature
        _signature_failure(gateway, tc3._replace(headers={**tc3.headers, "Authorization": forged}))
    for method in ("GET", "POST"):
        v1 = rawsign.v1(SID, SKEY, host=gateway.endpoint, action="DescribeDisks", method=method)
        encoded = v1.path[2:] if method == "GET" else v1.body.decode()
        forged = encoded.rsplit("Signature=", 1)[0] + "Signature=%C3%A9"
        if method == "GET":
            _signature_failure(gateway, v1._replace(path="/?" + forged))
        else:
            _signature_failure(gateway, v1._replace(body=forged.encode()))
    assert "Traceback" not in gateway.log_text()


# --- body and query sizes ------------------------------------------------------------------------
def _size_limit_exceeded(server: Server, signed: rawsign.Signed) -> dict:
    with connect(server) as sock:
        sender = threading.Thread(target=send_quietly, args=(sock, serialize(signed)))
        sender.start()
        response = read_reply(sock).envelope()
        sender.join(timeout=60)
    assert response["Error"]["Code"] == "RequestSizeLimitExceeded", response
    return response


def _pad_v1_query(signed: rawsign.Signed, size: int) -> rawsign.Signed:
    query = signed.path[2:]
    return signed._replace(path="/?" + "&" * (size - len(query)) + query)


def test_bodies_and_queries_over_the_limits_are_request_size_limit_exceeded(gateway):
    host = gateway.endpoint
    body = b'{"Limit": 1}'
    oversized = [
        tc3_describe(gateway, body=body[:1] + b" " * (10 * 1024 * 1024 + 1 - len(body)) + body[1:]),
        tc3_describe(gateway, method="GET", raw_query="Limit=1" + "&" * (32 * 1024 + 1 - 7)),
        _pad_v1_query(rawsign.v1(SID, SKEY, host=host, action="DescribeDisks"), 32 * 1024 + 1),
    ]
    v1_post = rawsign.v1(SID, SKEY, host=host, action="DescribeDisks", method="POST")
    padding = b"&" * (1024 * 1024 + 1 - len(v1_post.body))
    oversized.append(v1_post._replace(body=padding + v1_post.body))
    for signed in oversized:
        response = _size_limit_exceeded(gateway, signed)
        assert response["Error"]["Message"].startswith("请求包超过限制大小。"), response
    english = tc3_describe(gateway, method="GET", language="en-US",
                           raw_query="Limit=1" + "&" * (32 * 1024 + 1 - 7))
    message = _size_limit_exceeded(gateway, english)["Error"]["Message"]
    assert message.startswith("The request size exceeds the upper limit."), message


# --- slow and silent clients ---------------------------------------------------------------------
def test_silent_connections_are_closed_after_the_header_timeout(impatient_gateway):
    sockets = [connect(impatient_gateway) for _ in range(50)]
    try:
        deadline = time.monotonic() + CLOSE_WITHIN
        for sock in sockets:
            # Nothing of a request arrived, so nothing is answered (no stray 408).
            assert closed_by_server(sock, max(0.1, deadline - time.monotonic())) == b""
    finally:
        for sock in sockets:
            sock.close()


def _drip(sockets: list[socket.socket], data: bytes, interval: float, within: float) -> dict:
    """Send `data` one byte per `interval` on every socket until the server closes each one;
    return what each received (by socket), failing if one is still open after `within` s."""
    selector = selectors.DefaultSelector()
    received = {sock: b"" for sock in sockets}
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    open_sockets, position = set(sockets), 0
    deadline = time.monotonic() + within
    while open_sockets and time.monotonic() < deadline:
        for sock in list(open_sockets):
            try:
                sock.send(data[position % len(data):position % len(data) + 1])
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                pass
        position += 1
        for key, _ in selector.select(timeout=interval):
            try:
                chunk = key.fileobj.recv(65536)
            except ConnectionResetError:
                chunk = b""
            received[key.fileobj] += chunk
            if not chunk:
                open_sockets.discard(key.fileobj)
                selector.unregister(key.fileobj)
    selector.close()
    assert not open_sockets, f"{len(open_sockets)} slow connections still open after {within} s"
    return received


def test_slow_headers_are_cut_off_after_the_header_timeout(impatient_gateway):
    sockets = [connect(impatient_gateway) for _ in range(50)]
    try:
        for sock in sockets:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        # A header byte every 0.1 s: each arrives long before any idle timer could fire.
        received = _drip(sockets, b"X-Slow: " + b"s" * 1000, 0.1, CLOSE_WITHIN)
    finally:
        for sock in sockets:
            sock.close()
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in received.values()), received


def test_a_slow_body_is_cut_off_after_the_body_timeout(impatient_gateway):
    signed = tc3_describe(impatient_gateway, body=b'{"Limit": 1}' + b" " * 1000)
    request = serialize(signed)
    with connect(impatient_gateway) as sock:
        sock.sendall(request[:len(request) - 900])  # headers and part of the body, then nothing
        answer = closed_by_server(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert "Traceback" not in impatient_gateway.log_text()


def test_keep_alive_connections_live_on_while_requests_keep_coming(impatient_gateway):
    """The header timeout counts from the end of the previous response, not from the opening:
    a connection busy for longer than it is kept; once idle, it is closed without a 408."""
    with connect(impatient_gateway) as sock:
        started = time.monotonic()
        while time.monotonic() - started < 2 * HEADER_TIMEOUT:
            sock.sendall(serialize(tc3_describe(impatient_gateway)))
            assert "Error" not in read_reply(sock).envelope()
            time.sleep(HEADER_TIMEOUT / 10)
        assert closed_by_server(sock) == b""


def test_hundreds_of_slow_and_silent_connections_do_not_starve_a_normal_client(gateway):
    silent = [connect(gateway) for _ in range(100)]
    slow = [connect(gateway) for _ in range(100)]
    try:
        for sock in slow:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        for _ in range(5):
            for sock in slow:
                sock.send(b"s")
            assert describe_disks(gateway) < SERVED_WITHIN
    finally:
        for sock in silent + slow:
            sock.close()
