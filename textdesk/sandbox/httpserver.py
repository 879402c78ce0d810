"""The sandbox's HTTP/1.1 server: stdlib ``wsgiref`` made to keep connections alive.

wsgiref's request handler serves one request per connection and answers HTTP/1.0, so every
call paid a TCP connect (urllib3: "Resetting dropped connection"). Here a connection serves
requests until the client closes it, sends ``Connection: close``, speaks HTTP/1.0, or stays
idle for ``IDLE_TIMEOUT`` seconds. That needs every answer framed by Content-Length, the
request body read exactly (never into the next request) and the rest of an unread body
skipped. ``server_close`` ends the kept-alive connections, so a stopped server stops serving.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
import time
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

MAX_BODY_BYTES = 1_000_000  # larger bodies are refused (413), not skipped: the connection closes
IDLE_TIMEOUT = 120.0  # seconds a kept-alive connection may wait for its next request


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
        if self.environ["wsgi.input"].left > MAX_BODY_BYTES:
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
            self.raw_requestline = self.rfile.readline(65537)
        except TimeoutError:
            self.close_connection = True  # idle keep-alive connection
            return
        try:
            if not self.raw_requestline:
                self.close_connection = True  # the client closed the connection
                return
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(414)
                return
            if not self.parse_request():  # an error was answered; the connection closes
                return
            chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
            if chunked:
                self.close_connection = True  # a chunked body is not read: close after
            environ = self.get_environ()
            length = _content_length(environ)
            if length is None:
                self.close_connection = True  # the app answers 400; the framing is lost
            body = RequestBody(self.rfile, length or 0)
            handler = SandboxServerHandler(
                body, self.wfile, self.get_stderr(), environ, multithread=False
            )
            handler.request_handler = self  # backpointer for logging
            handler.run(self.server.get_app())
            if not handler.finished:
                self.close_connection = True  # the client went away mid-answer
            elif not self.close_connection:
                body.drain()
            elif body.left or chunked:
                self._linger()
        finally:
            self.wfile.flush()

    def _linger(self, seconds: float = 2.0, limit: int = 64 * MAX_BODY_BYTES) -> None:
        """Close without losing the answer while the client still sends a body nobody reads.

        Closing with unread data makes the kernel reset the connection, and a client still
        sending gets a broken pipe instead of the answer (e.g. the 413). So: send the answer,
        stop writing, then discard what arrives until the client closes (bounded).
        """
        self.wfile.flush()
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
        return env

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
