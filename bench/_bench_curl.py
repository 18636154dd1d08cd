"""One http(s) probe client at a fixed rate, in a process of its own (bench/curl_probe.py).

Modes, each doing the work statuswatch's http probe does per check (a fresh connection, GET,
the status judged, at most --cap body bytes taken, a deadline; over HTTPS a full handshake that
verifies the certificate against --ca-file and reads its expiry):

  statuswatch  probes.run_probe with a real HttpMonitor and ProbeContext (the production path)
  aiohttp      a bare aiohttp loop: one session, force_close, nothing else
  curl         libcurl's multi interface through pycurl, driven by the asyncio event loop
               (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION on loop.add_reader / call_later)

Prints one RESULT line (see _bench_common.emit): CPU-s per 1,000 probes of this process.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
from collections.abc import Callable

from _bench_common import (
    Counters,
    contender_arguments,
    contender_result,
    emit,
    fixed_schedule,
    measured_window,
    proc_cpu,
    run_on_loop,
)

USER_AGENT = "statuswatch/0.1 (+uptime monitor)"


class CurlMulti:
    """A pycurl CurlMulti whose sockets and timer are the asyncio event loop's."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        import pycurl

        self.pycurl = pycurl
        self.loop = loop
        self.multi = pycurl.CurlMulti()
        self.multi.setopt(pycurl.M_SOCKETFUNCTION, self._on_socket_change)
        self.multi.setopt(pycurl.M_TIMERFUNCTION, self._on_timer_change)
        self.timer: asyncio.TimerHandle | None = None
        self.waiting: dict[object, asyncio.Future] = {}
        self.watched: dict[int, int] = {}  # fd -> POLL_* curl asked for

    def perform(self, handle: object) -> asyncio.Future:
        """Start a transfer; the future resolves to None (done) or (errno, message)."""
        future = self.loop.create_future()
        self.waiting[handle] = future
        self.multi.add_handle(handle)
        return future

    def cancel(self, handle: object) -> None:
        """Abandon a transfer (its deadline passed): curl closes its connection."""
        if self.waiting.pop(handle, None) is not None:
            self.multi.remove_handle(handle)

    def _on_socket_change(self, what: int, fd: int, _multi: object, _data: object) -> None:
        pc, loop = self.pycurl, self.loop
        old = self.watched.get(fd, pc.POLL_REMOVE)
        if old in (pc.POLL_IN, pc.POLL_INOUT) and what not in (pc.POLL_IN, pc.POLL_INOUT):
            loop.remove_reader(fd)
        if old in (pc.POLL_OUT, pc.POLL_INOUT) and what not in (pc.POLL_OUT, pc.POLL_INOUT):
            loop.remove_writer(fd)
        if what in (pc.POLL_IN, pc.POLL_INOUT) and old not in (pc.POLL_IN, pc.POLL_INOUT):
            loop.add_reader(fd, self._act, fd, pc.CSELECT_IN)
        if what in (pc.POLL_OUT, pc.POLL_INOUT) and old not in (pc.POLL_OUT, pc.POLL_INOUT):
            loop.add_writer(fd, self._act, fd, pc.CSELECT_OUT)
        if what == pc.POLL_REMOVE:
            self.watched.pop(fd, None)
        else:
            self.watched[fd] = what

    def _on_timer_change(self, timeout_ms: int) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if timeout_ms >= 0:
            self.timer = self.loop.call_later(timeout_ms / 1000, self._on_timeout)

    def _on_timeout(self) -> None:
        self.timer = None
        self._act(self.pycurl.SOCKET_TIMEOUT, 0)

    def _act(self, fd: int, event: int) -> None:
        while True:
            ret, _running = self.multi.socket_action(fd, event)
            if ret != self.pycurl.E_CALL_MULTI_PERFORM:
                break
        while True:
            queued, done, failed = self.multi.info_read()
            for handle in done:
                self._finish(handle, None)
            for handle, errno, message in failed:
                self._finish(handle, (errno, message))
            if not queued:
                break

    def _finish(self, handle: object, error: tuple[int, str] | None) -> None:
        self.multi.remove_handle(handle)
        future = self.waiting.pop(handle, None)
        if future is not None and not future.done():
            future.set_result(error)


def curl_probe(args: argparse.Namespace) -> Callable:
    """The curl mode's probe: a pooled easy handle per check, a fresh connection each."""
    import pycurl

    multi = CurlMulti(asyncio.get_running_loop())
    pool: list[pycurl.Curl] = []
    https = args.base.startswith("https://")

    async def probe(index: int) -> str | None:
        handle = pool.pop() if pool else pycurl.Curl()
        body = bytearray()
        over = False

        def write(chunk: bytes) -> int | None:
            nonlocal over
            room = args.cap - len(body)
            if len(chunk) > room:
                over = True
                return 0  # aborts the transfer: the cap decides, like read_capped
            body.extend(chunk)
            return None

        handle.setopt(pycurl.URL, f"{args.base}/m/{index}")
        handle.setopt(pycurl.FRESH_CONNECT, 1)
        handle.setopt(pycurl.FORBID_REUSE, 1)
        handle.setopt(pycurl.NOSIGNAL, 1)
        handle.setopt(pycurl.FOLLOWLOCATION, 0)
        handle.setopt(pycurl.USERAGENT, USER_AGENT)
        # As aiohttp's force_close does: the target closes first, TIME_WAIT stays on its side.
        handle.setopt(pycurl.HTTPHEADER, ["Connection: close"])
        handle.setopt(pycurl.ACCEPT_ENCODING, "gzip, deflate")  # decoded under the cap
        handle.setopt(pycurl.TIMEOUT_MS, int(args.timeout * 1000))
        handle.setopt(pycurl.WRITEFUNCTION, write)
        if https:
            handle.setopt(pycurl.CAINFO, args.ca_file)
            handle.setopt(pycurl.SSL_SESSIONID_CACHE, 0)  # a full handshake: the cert each time
            handle.setopt(pycurl.OPT_CERTINFO, 1)
        try:
            error = await multi.perform(handle)
        finally:
            multi.cancel(handle)
        if error is not None and not over:
            pool.append(handle)
            return f"curl {error[0]}"
        status = handle.getinfo(pycurl.RESPONSE_CODE)
        # The per-phase timings statuswatch would report; read here so their cost counts.
        handle.getinfo(pycurl.NAMELOOKUP_TIME_T)
        handle.getinfo(pycurl.CONNECT_TIME_T)
        handle.getinfo(pycurl.APPCONNECT_TIME_T)
        handle.getinfo(pycurl.STARTTRANSFER_TIME_T)
        handle.getinfo(pycurl.TOTAL_TIME_T)
        if https:
            expiry = [v for k, v in handle.getinfo(pycurl.INFO_CERTINFO)[0] if k == "Expire date"]
            if not expiry:
                return "no certificate expiry"
        pool.append(handle)
        return None if status == 200 else f"HTTP {status}"

    return probe


def aiohttp_probe(args: argparse.Namespace, session, sslctx: ssl.SSLContext | None) -> Callable:
    """The bare loop: a GET on a shared force_close session (verifying TLS, nothing more)."""

    async def probe(index: int) -> str | None:
        url = f"{args.base}/m/{index}"
        async with (
            asyncio.timeout(args.timeout),
            session.get(url, allow_redirects=False, ssl=sslctx or True) as resp,
        ):
            return None if resp.status == 200 else f"HTTP {resp.status}"

    return probe


def statuswatch_probe(args: argparse.Namespace, ctx) -> Callable:
    """statuswatch's production path: run_probe on a real HttpMonitor."""
    from statuswatch.config.durations import Duration
    from statuswatch.config.model import HttpMonitor
    from statuswatch.probes import run_probe

    common = {
        "component": "c",
        "interval": Duration(60),
        "timeout": Duration(args.timeout),
        "confirm_failures": 2,
        "confirm_recoveries": 1,
        "ca_file": args.ca_file,
        "max_body_bytes": args.cap,
    }
    monitors: dict[int, HttpMonitor] = {}

    async def probe(index: int) -> str | None:
        monitor = monitors.get(index)
        if monitor is None:
            url = f"{args.base}/m/{index}"
            monitor = monitors[index] = HttpMonitor(id=f"m{index}", url=url, **common)
        result = await run_probe(monitor, ctx)
        if result is None or result.ok:
            return None
        return f"{result.error_class}: {result.message[:60]}"

    return probe


async def run(args: argparse.Namespace) -> dict:
    import aiohttp

    from statuswatch.clock import SystemClock
    from statuswatch.probes import ProbeContext

    counters = Counters()
    ctx = ProbeContext(SystemClock(), max_connections=args.workers)
    sslctx = ssl.create_default_context(cafile=args.ca_file) if args.ca_file else None
    connector = aiohttp.TCPConnector(force_close=True, limit=args.workers)
    async with aiohttp.ClientSession(connector=connector) as session:
        if args.mode == "curl":
            probe = curl_probe(args)
        elif args.mode == "aiohttp":
            probe = aiohttp_probe(args, session, sslctx)
        else:
            probe = statuswatch_probe(args, ctx)
        task = asyncio.create_task(fixed_schedule(probe, counters, args))
        window = await measured_window(
            counters, proc_cpu, warmup=args.warmup, duration=args.duration
        )
        await task
    await ctx.close()
    return contender_result(window, counters)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["statuswatch", "aiohttp", "curl"])
    contender_arguments(parser)
    parser.add_argument("--ca-file", help="the CA the HTTPS target's certificate chains to")
    parser.add_argument("--cap", type=int, default=1024 * 1024, help="body byte cap (1 MiB)")
    parser.add_argument("--loop", choices=["auto", "asyncio"], default="auto")
    args = parser.parse_args()
    if not args.base.startswith(("http://127.0.0.1:", "https://127.0.0.1:")):
        parser.error("the benchmark only talks to 127.0.0.1")
    emit(run_on_loop(run(args), args.loop))


if __name__ == "__main__":
    main()
