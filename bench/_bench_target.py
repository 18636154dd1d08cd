"""Probe target: a minimal HTTP/1.1 server on 127.0.0.1 answering `200 ok` to every request.

A raw asyncio Protocol (no framework) so the target costs as little CPU as possible and the
contenders, not the target, are what the benchmark measures. Keep-alive is honoured when the
client asks for it; `Connection: close` (what a fresh-connection client sends) gets an answer
and a close from our side, so the TIME_WAIT sockets pile up here and not in the client's
ephemeral port range. Several copies can share one port (--reuse-port; the kernel spreads the
connections). With --delay each answer leaves that long after its request head arrived: a target
of known latency, so a monitor's measured latency can be checked against the truth. With
--tls-cert (a PEM holding the key and the chain) it speaks HTTPS instead.

Run: python bench/_bench_target.py --port 8123 [--reuse-port] [--max-seconds 3600] [--delay 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import ssl

BODY = b"ok"
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n" % len(BODY)
KEEP = HEAD + b"Connection: keep-alive\r\n\r\n" + BODY
CLOSE = HEAD + b"Connection: close\r\n\r\n" + BODY


class Http(asyncio.Protocol):
    """Answers each complete request head; request bodies are skipped by Content-Length."""

    __slots__ = ("buf", "skip", "transport")
    delay = 0.0  # seconds between a request head and its answer (--delay)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buf = b""
        self.skip = 0

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data
        while True:
            if self.skip:
                cut = min(self.skip, len(buf))
                buf, self.skip = buf[cut:], self.skip - cut
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head, buf = buf[:end].lower(), buf[end + 4 :]
            self.skip = _content_length(head)
            if _wants_close(head):
                self._answer(CLOSE, close=True)
                return
            self._answer(KEEP, close=False)
        if len(buf) > 65536:  # not HTTP, or abusive: drop it
            self.transport.close()
        self.buf = buf

    def _answer(self, response: bytes, *, close: bool) -> None:
        """Send one answer now, or `delay` seconds from now."""
        if self.delay > 0:
            asyncio.get_running_loop().call_later(self.delay, self._send, response, close)
        else:
            self._send(response, close)

    def _send(self, response: bytes, close: bool) -> None:
        if self.transport.is_closing():  # the client gave up meanwhile
            return
        self.transport.write(response)
        if close:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.buf = b""


def _wants_close(head: bytes) -> bool:
    if b"connection: close" in head:
        return True
    return head.split(b"\r\n", 1)[0].endswith(b"http/1.0") and b"keep-alive" not in head


def _content_length(head: bytes) -> int:
    at = head.find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    value = head[at + 17 :].split(b"\r\n", 1)[0]
    return int(value.strip() or 0)


async def serve(port: int, reuse_port: bool, max_seconds: float, tls_cert: str | None) -> None:
    loop = asyncio.get_running_loop()
    tls = None
    if tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(tls_cert)
    server = await loop.create_server(
        Http, "127.0.0.1", port, backlog=4096, reuse_port=reuse_port or None, ssl=tls
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    parent = os.getppid()

    def orphan_check() -> None:  # never outlive the benchmark
        if os.getppid() != parent:
            stop.set()
        else:
            loop.call_later(1.0, orphan_check)

    loop.call_later(1.0, orphan_check)
    loop.call_later(max_seconds, stop.set)
    print(f"READY {port}", flush=True)
    await stop.wait()
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--reuse-port", action="store_true")
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--tls-cert", help="PEM with the key and certificate chain: HTTPS")
    args = parser.parse_args()
    Http.delay = args.delay
    asyncio.run(serve(args.port, args.reuse_port, args.max_seconds, args.tls_cert))


if __name__ == "__main__":
    main()
