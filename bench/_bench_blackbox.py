"""blackbox_exporter driven through /probe at a fixed rate; its own CPU is what gets compared.

Starts Debian's prometheus-blackbox-exporter on a free 127.0.0.1 port with a one-module config
(http_2xx, IPv4 only, so nothing but the target is contacted), then asks it to probe the target
N times per interval with the same driver the bare loop uses. The exporter's CPU and memory come
from /proc/<its pid>; the driver's own CPU is reported beside it, not added (a Prometheus server
would be the driver in real life).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import aiohttp
from _bench_common import (
    Counters,
    contender_arguments,
    contender_result,
    emit,
    fixed_schedule,
    free_port,
    measured_window,
    proc_cpu,
)

EXPORTER = "/usr/bin/prometheus-blackbox-exporter"
CONFIG = """\
modules:
  http_2xx:
    prober: http
    timeout: {timeout}s
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      valid_status_codes: [200]
      fail_if_ssl: false
      fail_if_not_ssl: false
"""


def start_exporter(workdir: Path, timeout: float) -> tuple[subprocess.Popen, int]:
    config = workdir / "blackbox.yml"
    config.write_text(CONFIG.format(timeout=timeout))
    port = free_port()
    proc = subprocess.Popen(
        [
            EXPORTER,
            f"--config.file={config}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, port


async def wait_ready(session: aiohttp.ClientSession, port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"blackbox_exporter exited with {proc.returncode}")
        try:
            async with session.get(f"http://127.0.0.1:{port}/-/healthy") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("blackbox_exporter did not become ready within 15 s")


def make_probe(session: aiohttp.ClientSession, exporter: int, base: str, timeout: float):
    async def probe(index: int) -> str | None:
        target = quote(f"{base}/m/{index}", safe="")
        url = f"http://127.0.0.1:{exporter}/probe?module=http_2xx&target={target}"
        async with asyncio.timeout(timeout + 5), session.get(url) as resp:
            text = await resp.text()
        if resp.status != 200:
            return f"exporter HTTP {resp.status}"
        return None if "\nprobe_success 1" in text else "probe_success 0"

    return probe


async def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-blackbox-") as tmp:
        proc, port = start_exporter(Path(tmp), args.timeout)
        try:
            # Keep-alive to the exporter: the driver's connections are not what is measured.
            connector = aiohttp.TCPConnector(limit=args.workers)
            async with aiohttp.ClientSession(connector=connector) as session:
                await wait_ready(session, port, proc)
                return await drive(args, session, port, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def drive(
    args: argparse.Namespace, session: aiohttp.ClientSession, port: int, pid: int
) -> dict:
    counters = Counters()
    probe = make_probe(session, port, args.base, args.timeout)
    task = asyncio.create_task(fixed_schedule(probe, counters, args))
    driver_cpu0 = proc_cpu()
    window = await measured_window(
        counters, lambda: proc_cpu(pid), warmup=args.warmup, duration=args.duration
    )
    driver_cpu = proc_cpu() - driver_cpu0
    await task
    return {
        **contender_result(window, counters, pid=pid),
        "driver_cpu_s": round(driver_cpu, 3),
        "exporter_version": _version(),
    }


def _version() -> str:
    out = subprocess.run([EXPORTER, "--version"], capture_output=True, text=True, timeout=10)
    return (out.stdout + out.stderr).split("\n", 1)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    contender_arguments(parser)
    args = parser.parse_args()
    if not args.base.startswith("http://127.0.0.1:"):
        parser.error("the benchmark only talks to 127.0.0.1")
    if not os.access(EXPORTER, os.X_OK):
        raise SystemExit(f"{EXPORTER} not found")
    emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
