"""A fault-injecting TCP proxy on 127.0.0.1, switchable at run time, for playing bad networks.

Put it in front of a target (or point an agent's HTTP_PROXY at it: a plain HTTP target answers
a forward-proxy request line as it would any other, so the bytes can pass untouched). Modes:
- "pass": bytes both ways;
- "refuse": nothing listens on the port (connection refused), until another mode;
- "hang": connections are accepted and never answered;
- "delay": like pass, each connection held `delay` seconds before it is forwarded;
- "drop": the request reaches the target, the answer is cut after its first few bytes.
Threads, not the test's event loop: the processes under test are separate, the test is sync.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from tests.helpers.net import free_port

MODES = ("pass", "refuse", "hang", "delay", "drop")
DROP_AFTER = 8  # bytes of the answer let through before a "drop" cuts it


class FaultProxy:
    """One listening port forwarding to `target_port`; `set(mode)` switches it at once."""

    def __init__(self, target_port: int, mode: str = "pass", delay: float = 2.0) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.delay = delay
        self.mode = "refuse"
        self.connections = 0  # accepted so far, whatever the mode
        self._listener: socket.socket | None = None
        self._held: list[socket.socket] = []
        self._open: set[socket.socket] = set()  # both ends of every forwarded connection
        self._lock = threading.Lock()
        self._closed = False
        self.set(mode)

    def set(self, mode: str) -> None:
        """Switch to `mode`; a fault also cuts the connections already open (a kept-alive
        connection would otherwise carry on as if nothing happened)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        with self._lock:
            self.mode = mode
            if mode == "refuse":
                self._close_listener()
                self._drop_held()
            elif self._listener is None:
                self._listen()
            if mode != "hang":
                self._drop_held()
            if mode in ("refuse", "hang", "drop"):
                for sock in self._open:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                self._open.clear()

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            self._close_listener()
            self._drop_held()

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def _close_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None

    def _drop_held(self) -> None:
        for conn in self._held:
            with contextlib.suppress(OSError):
                conn.close()
        self._held.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # closed: "refuse", or the end
                return
            self.connections += 1
            with self._lock:
                mode = self.mode
                if mode == "hang":
                    self._held.append(conn)
                    continue
            threading.Thread(target=self._serve, args=(conn, mode), daemon=True).start()

    def _serve(self, conn: socket.socket, mode: str) -> None:
        if mode == "delay":
            time.sleep(self.delay)
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            conn.close()
            return
        limit = DROP_AFTER if mode == "drop" else None
        with self._lock:
            self._open.update((conn, upstream))
        threading.Thread(target=_pipe, args=(conn, upstream, None), daemon=True).start()
        _pipe(upstream, conn, limit)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _pipe(src: socket.socket, dst: socket.socket, limit: int | None) -> None:
    """Copy src to dst until either end closes (or `limit` bytes, then cut both)."""
    sent = 0
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if limit is not None and sent + len(data) > limit:
                dst.sendall(data[: limit - sent])
                break
            dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
