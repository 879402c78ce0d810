"""The stand-ins' HTTP/1.1 server: stdlib ``wsgiref`` made to keep connections alive and to
answer like a real API server.

wsgiref's request handler serves one request per connection and answers HTTP/1.0, so every
call paid a TCP connect (urllib3: "Resetting dropped connection"). Here a connection serves
requests until the client closes it, sends ``Connection: close``, speaks HTTP/1.0, or stays
idle for ``IDLE_TIMEOUT`` seconds. That needs every answer framed by Content-Length, the
request body read exactly (never into the next request) and the rest of an unread body
skipped. ``server_close`` ends the kept-alive connections, so a stopped server stops serving.

Like a real API server, every error the HTTP layer itself answers (a malformed request line,
a URI over ``MAX_REQUEST_LINE``, too many or too long headers, an unsupported version or
transfer coding, a body over ``max_body_bytes``) is the same JSON as the API's errors (the
handler's ``error_body``, which the app sets), and a ``Transfer-Encoding: chunked`` request
body is de-chunked before the app sees it.

Why not werkzeug's development server: it is not a dependency here, and it would need the same
overrides (http.server's errors are HTML) on top of it, so it would not be less code.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import socketserver
import sys
import threading
import time
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

# larger bodies are refused (413), not skipped: the connection closes (``max_body_bytes``)
MAX_BODY_BYTES = 1_000_000
MAX_REQUEST_LINE = 16_384  # method + URI + version; longer is 414 (real servers: 8-16 KB)
IDLE_TIMEOUT = 120.0  # seconds a kept-alive connection may wait for its next request
# What http.server names its own errors; the JSON message says it in a sentence.
SERVER_ERRORS = {
    400: "The request is not valid HTTP",
    413: "Request body too large",
    414: "The request URI is too long",
    431: "The request headers are too many or too long",
    501: "This transfer coding or method is not supported",
    505: "This HTTP version is not supported",
}


class BadChunk(Exception):
    """A chunked request body that cannot be read (the answer is 400)."""


class RequestBody:
    """``wsgi.input`` of one request: reads stop at its Content-Length, so the next request on
    a kept-alive connection is never read as body; :meth:`drain` skips what the app left."""

    def __init__(self, rfile, length: int):
        self._rfile = rfile
        self.left = max(0, length)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self._rfile.read(size) if size else b""
        self.left = self.left - len(data) if len(data) == size else 0  # short: client gone
        return data

    def readline(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self.left:
            size = self.left
        data = self._rfile.readline(size) if size else b""
        self.left = self.left - len(data) if data else 0
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(self)

    def __iter__(self):
        while line := self.readline():
            yield line

    def drain(self) -> None:
        while self.left and self.read(min(self.left, 65536)):
            pass


class SandboxServerHandler(ServerHandler):
    """wsgiref's handler answering HTTP/1.1: every answer is framed by its Content-Length (set
    by ``respond``, or by wsgiref for a one-chunk body) except 204, which has no body and by
    RFC 9110 no Content-Length; ``Connection: close`` when the connection ends after it."""

    http_version = "1.1"
    finished = False

    def cleanup_headers(self):
        super().cleanup_headers()
        conn = self.request_handler
        if self.status[:3] in ("204", "304"):
            del self.headers["Content-Length"]  # never has a body; RFC 9110 forbids the header
        elif "Content-Length" not in self.headers:
            conn.close_connection = True  # unframed: the close marks the end of the body
        if self.environ["wsgi.input"].left > conn.max_body_bytes:
            conn.close_connection = True  # too much unread body (413) to skip
        if conn.close_connection:
            self.headers["Connection"] = "close"
        elif conn.request_version == "HTTP/1.0":
            self.headers["Connection"] = "keep-alive"  # it asked to keep the connection

    def finish_response(self):
        super().finish_response()
        self.finished = True


class KeepAliveRequestHandler(WSGIRequestHandler):
    """HTTP/1.1 with keep-alive: one connection serves requests until the client closes it,
    asks for ``Connection: close``, speaks HTTP/1.0, or stays idle for ``timeout`` seconds."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    max_body_bytes = MAX_BODY_BYTES
    disable_nagle_algorithm = True  # small answers leave at once
    wbufsize = -1  # status line, headers and body leave in one write, not one per line
    verbose = False

    def setup(self):
        super().setup()
        self.server.connection_opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.connection_closed(self.connection)

    def handle(self):
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.handle_one_request()

    def handle_one_request(self):
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
        except TimeoutError:
            self.close_connection = True  # idle keep-alive connection
            return
        try:
            if not self.raw_requestline:
                self.close_connection = True  # the client closed the connection
                return
            if len(self.raw_requestline) > MAX_REQUEST_LINE:
                self.requestline = self.request_version = self.command = ""
                self.send_error(414)
                return
            if len(self.raw_requestline.split()) == 2:
                # HTTP/0.9 ("GET /path"): http.server would wait for headers that never come
                # and then answer without a status line
                self.requestline = self.request_version = self.command = ""
                self.send_error(400, explain="HTTP/0.9 requests are not supported")
                return
            if not self.parse_request():  # an error was answered; the connection closes
                return
            environ = self.get_environ()
            body = self._request_body(environ)
            if body is None:
                return  # refused: an error was answered and the connection closes
            handler = SandboxServerHandler(
                body, self.wfile, self.get_stderr(), environ, multithread=False
            )
            handler.request_handler = self  # backpointer for logging
            handler.run(self.server.get_app())
            if not handler.finished:
                self.close_connection = True  # the client went away mid-answer
            elif not self.close_connection:
                body.drain()
            elif body.left:
                self._linger()
        finally:
            self.wfile.flush()

    def _request_body(self, environ) -> RequestBody | None:
        """The body as the app reads it: framed by Content-Length, or de-chunked (RFC 9112)."""
        coding = self.headers.get("Transfer-Encoding")
        if coding is None:
            length = _content_length(environ)
            if length is None:
                self.close_connection = True  # the app answers 400; the framing is lost
            return RequestBody(self.rfile, length or 0)
        codings = [c.strip().lower() for c in coding.split(",") if c.strip()]
        if codings != ["chunked"]:
            # RFC 9112 6.1: chunked must be last, or the length cannot be known
            code = 400 if not codings or codings[-1] != "chunked" else 501
            self.send_error(code, explain=f"Transfer-Encoding {coding!r} is not supported")
            return None
        try:
            data = self._read_chunked()
        except BadChunk as exc:
            self.send_error(400, explain=f"The chunked request body is malformed: {exc}")
            return None
        if data is None:
            self.send_error(413)
            return None
        # Content-Length would disagree with what was read (RFC 9112 6.3): what came counts
        environ["CONTENT_LENGTH"] = str(len(data))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return RequestBody(io.BytesIO(data), len(data))

    def _read_chunked(self) -> bytes | None:
        """Read a chunked body and its trailers; None when it passes ``max_body_bytes``."""
        data = bytearray()
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise BadChunk("a chunk size line is missing or too long")
            size_text = line.split(b";", 1)[0].strip()  # chunk extensions are ignored
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadChunk(f"{size_text[:20]!r} is not a chunk size") from None
            if size < 0:
                raise BadChunk("negative chunk size")
            if size == 0:
                break
            if len(data) + size > self.max_body_bytes:
                return None
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise BadChunk("a chunk is shorter than its size")
            data += chunk
        for _ in range(100):  # trailer fields, ignored, up to the empty line
            line = self.rfile.readline(8192)
            if line in (b"\r\n", b"\n"):
                return bytes(data)
            if not line.endswith(b"\n"):
                break
        raise BadChunk("the trailer section does not end")

    def send_error(self, code, message=None, explain=None):
        """Every error of the HTTP layer as the API's JSON (http.server's are HTML); the
        connection closes after it, without losing the answer to an unread request."""
        self.close_connection = True
        if self.request_version in ("", "HTTP/0.9"):
            self.request_version = "HTTP/1.1"  # always a status line and headers
        text = explain or SERVER_ERRORS.get(code) or message or self.responses.get(code, ("",))[0]
        data = json.dumps(self.error_body(int(code), text)).encode()
        self.log_error("code %d, message %s", code, message or text)
        short = self.responses.get(code, ("Error",))[0]
        self.send_response(code, short)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self._linger()

    def _linger(self, seconds: float = 2.0, limit: int | None = None) -> None:
        """Close without losing the answer while the client still sends a body nobody reads.

        Closing with unread data makes the kernel reset the connection, and a client still
        sending gets a broken pipe instead of the answer (e.g. the 413). So: send the answer,
        stop writing, then discard what arrives until the client closes (bounded).
        """
        self.wfile.flush()
        limit = 64 * self.max_body_bytes if limit is None else limit
        deadline = time.monotonic() + seconds
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            while limit > 0 and (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                limit -= len(chunk)

    def handle_expect_100(self):
        ok = super().handle_expect_100()
        self.wfile.flush()  # the interim answer must not wait in the write buffer
        return ok

    def get_environ(self):
        env = super().get_environ()
        env["sandbox.raw_path"] = self.path.split("?", 1)[0]
        if self.headers.get("Content-Type") is None:
            env["CONTENT_TYPE"] = ""  # wsgiref says text/plain; the app must know it is absent
        return env

    @staticmethod
    def error_body(status: int, message: str) -> dict:
        return {"message": message}

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        if self.verbose:
            super().log_message(format, *args)


def _content_length(environ) -> int | None:
    """The request's Content-Length (0 when absent), None when it is not a number >= 0."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return length if length >= 0 else None


class SandboxHTTPServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, *args, **kwargs):
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.connections_total = 0  # connections accepted so far (keep-alive keeps it low)
        super().__init__(*args, **kwargs)

    def server_bind(self):
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can hang
        # for seconds on a machine without DNS; the sandbox never needs the name.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
        self.setup_environ()

    def connection_opened(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(conn)
            self.connections_total += 1

    def connection_closed(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(conn)

    def server_close(self):
        """Stop listening and end the kept-alive connections (their threads then exit)."""
        super().server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already gone
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return  # the client gave up (e.g. a timeout fault); nothing to report
        super().handle_error(request, client_address)
