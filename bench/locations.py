"""Probing from several locations: three real agents into one central `statuswatch run`.

Real processes only, all on 127.0.0.1: a probe target (_bench_target.py), a central
`statuswatch run` (site.workers = 0, probing nothing itself: [probing] locations are the three
agents' own) and three `statuswatch agent` processes, one per location, each probing the whole
fleet (--monitors at --interval) and uploading to the central process through a relay in this
script: the relay passes every byte on as it comes and reads a copy of each upload (when its
last byte came in, how many results, the flip monitors' results, when its answer began); agent
c's relay can also cut it off while it keeps probing. Beside them, in the same invocation and
first, a single-node `statuswatch run` probing the same fleet locally: the reference for an
agent's CPU per probe.

Figures:
- central CPU per 1,000 results (its whole process over a steady window / rows its checks table
  gained meanwhile), target <= 0.2 CPU-s;
- each agent's CPU per probe / the single node's CPU per probe, target <= 1.1;
- verdict delay after the deciding result arrives: --flips times, a few "flip" monitors' target
  turns failing, then passing, for every location. The central process records each verdict
  as a transition at the check time of the result that decided it (the quorum is judged at each
  result's time), which names that result; it arrived when the last byte of the upload carrying
  it reached the relay. The verdict is in memory once that upload is judged and committed before
  its answer, so the delay runs from that arrival to the first byte of that upload's answer: an
  upper bound on the delay after arrival, without the agent's upload wait (its 0.25 s coalescing,
  its back-off) and without polling the API (the transitions are read from the database file,
  read-only, every 0.1 s, only to learn which result decided). p99 <= 1 s, down and up verdicts;
- a partition: agent c's relay refuses connections for --partition seconds, then reopens; the
  spool drains at >= 5,000 results/s (net of the results the agent keeps adding), and every
  result agent c spooled (a trigger on its spool keeps a ledger of (monitor, time)) is in the
  central checks table once: zero lost, zero duplicated. The central side of the replay: the
  results of the replayed uploads / the time the central process took to answer them (from each
  upload's last byte in to its answer's first byte out; the agent sends one at a time), so the
  agent's own work between uploads is not in it.

Run: python bench/locations.py [--monitors N] [--interval S] [--partition S] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import aiohttp
from _bench_common import free_port, log
from _bench_latency import tree_cpu
from _bench_roles import die_with_parent, write_toml
from aiohttp import web

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LOCATIONS = ("a", "b", "c")
CUT = "c"  # the agent the partition cuts off
ADMIN = "bench-admin"
TARGETS = {
    "central_cpu_per_1k": 0.2,
    "agent_cpu_ratio": 1.1,
    "verdict_p99_s": 1.0,
    "replay_per_s": 5000.0,
}
LEDGER = """
CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY, time REAL NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ledger (monitor TEXT NOT NULL, time REAL NOT NULL, inconclusive);
CREATE TRIGGER IF NOT EXISTS ledger_add AFTER INSERT ON results BEGIN
  INSERT INTO ledger VALUES (
    json_extract(NEW.body, '$.monitor'), NEW.time, json_extract(NEW.body, '$.inconclusive')
  );
END;
"""


class FlipTarget:
    """The flip monitors' target: answers the status set last."""

    def __init__(self) -> None:
        self.status = 200

    async def flip(self, _request: web.Request) -> web.Response:
        return web.Response(status=self.status, text="flip")

    async def serve(self) -> tuple[web.AppRunner, int]:
        """Answer GET /flip on a free loopback port: the runner (to clean up) and the port."""
        app = web.Application()
        app.router.add_get("/flip", self.flip)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner, port


class Upload:
    """One upload the relay passed on: when its body was in, when the answer began, its flips."""

    __slots__ = ("answered", "arrived", "flips", "results")

    def __init__(self, arrived: float, results: int, flips: list[tuple[str, float, bool]]):
        self.arrived, self.answered, self.results, self.flips = arrived, None, results, flips


class Sniffer:
    """Reads the HTTP requests an agent sends through the relay (a copy; the bytes go on as
    they come): each upload's arrival (wall clock, when its last byte came in), its result
    count and its flip monitors' results."""

    def __init__(self, log_to: list[Upload]) -> None:
        self.buf = b""
        self.log = log_to
        self.pending: list[Upload] = []  # HTTP/1.1 without pipelining: answered in order

    def request_bytes(self, data: bytes, now: float) -> None:
        self.buf += data
        while (request := self._take()) is not None:
            head, body = request
            if not head.startswith(b"POST /api/v1/agent/results"):
                self.pending.append(Upload(now, 0, []))  # answered, not counted
                continue
            if b"content-encoding: gzip" in head.lower():
                body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            doc = json.loads(body)
            flips = [
                (r["monitor"], r["time"], r["ok"])
                for r in doc["results"]
                if r["monitor"].startswith("flip")
            ]
            upload = Upload(now, len(doc["results"]), flips)
            self.pending.append(upload)
            self.log.append(upload)

    def answer_bytes(self, now: float) -> None:
        if self.pending and self.pending[0].answered is None:
            self.pending.pop(0).answered = now

    def _take(self) -> tuple[bytes, bytes] | None:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head, rest = self.buf[:end], self.buf[end + 4 :]
        lower = head.lower()
        if b"transfer-encoding: chunked" in lower:
            body, pos = b"", 0
            while True:
                eol = rest.find(b"\r\n", pos)
                if eol < 0:
                    return None
                size = int(rest[pos:eol].split(b";")[0], 16)
                if len(rest) < eol + 2 + size + 2:
                    return None
                body += rest[eol + 2 : eol + 2 + size]
                pos = eol + 2 + size + 2
                if size == 0:
                    break
            self.buf = rest[pos:]
            return head, body
        length = 0
        for line in lower.split(b"\r\n")[1:]:
            if line.startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if len(rest) < length:
            return None
        self.buf = rest[length:]
        return head, rest[:length]


class Relay:
    """A TCP relay to the central process that reads the uploads it passes on, and can refuse
    everything for a while."""

    def __init__(self, upstream: int) -> None:
        self.upstream, self.port = upstream, free_port()
        self.server: asyncio.Server | None = None
        self.conns: set[asyncio.StreamWriter] = set()
        self.uploads: list[Upload] = []

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def cut(self) -> None:
        """Refuse new connections and drop the open ones: the server is unreachable."""
        assert self.server is not None
        self.server.close()
        for w in list(self.conns):
            w.transport.abort()
        await self.server.wait_closed()
        self.server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.close()
            return
        self.conns |= {writer, up_w}
        sniffer = Sniffer(self.uploads)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, upward: bool) -> None:
            try:
                while data := await src.read(65536):
                    now = time.time()
                    dst.write(data)
                    if upward:
                        sniffer.request_bytes(data, now)
                    else:
                        sniffer.answer_bytes(now)
                    await dst.drain()
            except OSError:
                pass
            finally:
                dst.close()

        try:
            await asyncio.gather(pipe(reader, up_w, True), pipe(up_r, writer, False))
        except asyncio.CancelledError:  # cut: the connections were aborted
            pass
        self.conns -= {writer, up_w}


def fleet(args: argparse.Namespace, base: str) -> list[dict]:
    return [
        {"kind": "http", "id": f"m{i:05d}", "component": f"c{i % 20}", "url": f"{base}/m/{i}"}
        for i in range(args.monitors)
    ]


def config(args: argparse.Namespace, tmp: Path, name: str, port: int, monitors: list) -> Path:
    """A `statuswatch run` config: one process, the fleet, agents' locations when given."""
    ms = lambda s: f"{round(s * 1000)}ms"  # noqa: E731 - durations are strings
    raw: dict = {
        "site": {
            "title": name,
            "listen": f"127.0.0.1:{port}",
            "base_url": f"http://127.0.0.1:{port}",
            "workers": 0,
            "admin_token_env": "BENCH_ADMIN",
        },
        "storage": {"path": str(tmp / f"{name}.db")},
        "defaults": {"interval": ms(args.interval), "timeout": ms(min(5.0, args.interval / 2))},
        "probing": {"max_in_flight": 512, "max_lateness": "10s"},
        "components": [{"id": f"c{j}", "name": f"C{j}"} for j in range(20)],
        "monitors": monitors,
    }
    if name == "central":
        raw["probing"]["locations"] = list(LOCATIONS)
        raw["locations"] = [
            {"id": loc, "name": loc.upper(), "token_env": f"BENCH_TOKEN_{loc.upper()}"}
            for loc in LOCATIONS
        ]
    return write_toml(raw, tmp / f"{name}.toml")


def env() -> dict[str, str]:
    tokens = {f"BENCH_TOKEN_{loc.upper()}": f"token-{loc}" for loc in LOCATIONS}
    return {**os.environ, **tokens, "BENCH_ADMIN": ADMIN, "PYTHONPATH": str(ROOT)}


def start_run(cfg: Path, tmp: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "statuswatch", "run", "-c", str(cfg), "--log-level", "warning"]
    out = open(tmp / f"{cfg.stem}.log", "w")
    return subprocess.Popen(argv, env=env(), stdout=out, stderr=out, preexec_fn=die_with_parent)


def start_agent(loc: str, server: str, tmp: Path) -> subprocess.Popen:
    spool = tmp / f"agent-{loc}.spool"
    with sqlite3.connect(spool) as db:  # the agent's own table, and our ledger beside it
        db.executescript(LEDGER)
    argv = [sys.executable, "-m", "statuswatch", "agent", "--server", server, "--location", loc]
    argv += ["--spool", str(spool), "--agent-id", f"agent-{loc}", "--log-level", "warning"]
    out = open(tmp / f"agent-{loc}.log", "w")
    run_env = {**env(), "STATUSWATCH_AGENT_TOKEN": f"token-{loc}"}
    return subprocess.Popen(argv, env=run_env, stdout=out, stderr=out, preexec_fn=die_with_parent)


def count(db: Path, sql: str, *params: object) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return int(conn.execute(sql, params).fetchone()[0])
    finally:
        conn.close()


def checks(db: Path, location: str | None = None) -> int:
    if location is None:
        return count(db, "SELECT count(*) FROM checks")
    return count(db, "SELECT count(*) FROM checks WHERE location = ?", location)


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)  # a clean stop flushes the store (an agent: its spool)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


async def wait_ready(session: aiohttp.ClientSession, port: int, proc: subprocess.Popen) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"statuswatch run exited with {proc.returncode}")
        try:
            async with session.get(f"http://127.0.0.1:{port}/healthz"):
                return
        except aiohttp.ClientError:
            await asyncio.sleep(0.2)
    raise SystemExit("statuswatch run did not serve /healthz in time")


async def single_node(args: argparse.Namespace, tmp: Path, base: str, session) -> dict:
    """The reference: `statuswatch run` probing the same fleet itself."""
    port = free_port()
    proc = start_run(config(args, tmp, "single", port, fleet(args, base)), tmp)
    await wait_ready(session, port, proc)
    await asyncio.sleep(args.warmup)
    db = tmp / "single.db"
    c0, n0, t0 = tree_cpu(proc.pid), checks(db), time.monotonic()
    await asyncio.sleep(args.duration)
    c1, n1, t1 = tree_cpu(proc.pid), checks(db), time.monotonic()
    stop(proc)
    probes = n1 - n0
    log(f"single node: {probes} probes, {c1 - c0:.2f} CPU-s")
    return {
        "probes": probes,
        "probes_per_s": round(probes / (t1 - t0), 1),
        "cpu_s": round(c1 - c0, 3),
        "cpu_per_probe_ms": round((c1 - c0) / probes * 1000, 4) if probes else None,
    }


def flip_transitions(db: Path, after: int) -> list[tuple[int, str, float, str]]:
    """The flip monitors' recorded verdicts since rowid `after`: (rowid, monitor, time, new)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(
            "SELECT t.rowid, m.id, t.time, t.new FROM transitions t"
            " JOIN monitors m ON m.key = t.monitor WHERE t.rowid > ? AND m.id LIKE 'flip%'"
            " ORDER BY t.rowid",
            (after,),
        ).fetchall()
    finally:
        conn.close()


async def verdict_delays(args, db: Path, relays: dict[str, Relay], target: FlipTarget) -> dict:
    """Turn the flip monitors' target failing, then passing; time each verdict from the arrival
    of the result that decided it.

    The deciding result is the one whose check time the recorded transition carries (the quorum
    verdict is judged at each result's time: monitor/locations.py). Its arrival: when the last
    byte of the upload carrying it reached the relay in front of the central process. The
    verdict is in memory once that upload is judged and on disk before its answer (the commit
    comes before the 200), so the delay runs to the first byte of that upload's answer at the
    relay: an upper bound on the delay after arrival, with neither the agent's upload wait nor
    any polling of the API in it. The transitions table (read-only, from this process) only
    says which result decided and that the verdict was recorded.
    """
    decided: list[tuple[str, float, str]] = []
    missing = 0
    for n in range(args.flips * 2):
        down = n % 2 == 0
        want = "down" if down else "up"
        after = max((row[0] for row in flip_transitions(db, 0)), default=0)
        target.status = 500 if down else 200
        pending = {f"flip{k}" for k in range(args.flip_monitors)}
        deadline = time.monotonic() + args.flip_interval * 10 + 10
        while pending and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            for rowid, monitor, at, new in flip_transitions(db, after):
                after = rowid
                if monitor in pending and new == want:
                    decided.append((monitor, at, want))
                    pending.discard(monitor)
        if pending:
            missing += len(pending)
            log(f"flip {n}: {sorted(pending)} never turned {want}")
        await asyncio.sleep(args.flip_interval)
    carried: dict[tuple[str, float], list[Upload]] = {}
    for relay in relays.values():
        for upload in relay.uploads:
            for monitor, at, _ok in upload.flips:
                carried.setdefault((monitor, at), []).append(upload)
    delays: dict[str, list[float]] = {"down": [], "up": []}
    unmatched = 0
    for monitor, at, want in decided:
        answered = [u for u in carried.get((monitor, at), []) if u.answered is not None]
        if not answered:
            unmatched += 1
            continue
        # Two locations' results at the very same time: the later arrival, the longer delay.
        upload = max(answered, key=lambda u: u.arrived)
        delays[want].append(upload.answered - upload.arrived)
    return {"delays": delays, "never": missing, "unmatched": unmatched}


def spooled(tmp: Path) -> int:
    return count(tmp / f"agent-{CUT}.spool", "SELECT count(*) FROM results")


async def partition(args, tmp: Path, relay: Relay) -> dict:
    """Cut agent c off for --partition seconds; time its spool's drain after it is back."""
    await relay.cut()
    log(f"agent {CUT} cut off for {args.partition:g} s")
    await asyncio.sleep(args.partition)
    backlog = spooled(tmp)
    since = len(relay.uploads)
    await relay.open()
    reopened = time.monotonic()
    first = None
    while True:
        left = spooled(tmp)
        now = time.monotonic()
        if first is None and left < backlog:
            first = now
        if left <= max(200, backlog // 100):  # drained: what is left is the live trickle
            break
        if now - reopened > 120 + args.partition:
            break
        await asyncio.sleep(0.05)
    drained = time.monotonic()
    replay_s = drained - (first or reopened)
    log(
        f"backlog {backlog} drained in {replay_s:.2f} s after {(first or drained) - reopened:.2f} s"
    )
    # The central side alone: each replayed upload from its arrival to its answer (one upload in
    # flight at a time), so the agent's own work between uploads is not in it.
    replayed = [u for u in relay.uploads[since:] if u.answered is not None and u.results]
    served = sum(u.answered - u.arrived for u in replayed)
    ingested = sum(u.results for u in replayed)
    return {
        "backlog": backlog,
        "uploads": len(replayed),
        "central_s": round(served, 3),
        "central_per_s": round(ingested / served, 1) if served > 0 else None,
        "found_server_s": round((first or drained) - reopened, 2),
        "replay_s": round(replay_s, 3),
        "replay_per_s": round((backlog - left) / replay_s, 1) if replay_s > 0 else None,
    }


def count_in(db: sqlite3.Connection, sql: str) -> int:
    return int(db.execute(sql).fetchone()[0])


def ledger_check(tmp: Path, central: Path) -> dict:
    """Every result agent c spooled against the central checks table: lost, duplicated."""
    spool = sqlite3.connect(tmp / f"agent-{CUT}.spool")
    try:
        # Inconclusive results (the prober's own trouble) are no evidence: never stored as checks.
        ledger = spool.execute(
            "SELECT monitor, time FROM ledger WHERE inconclusive IS NULL"
        ).fetchall()
        inconclusive = count_in(spool, "SELECT count(*) FROM ledger WHERE inconclusive IS NOT NULL")
        left = {
            (json.loads(b)["monitor"], t)
            for t, b in spool.execute("SELECT time, body FROM results").fetchall()
        }
    finally:
        spool.close()
    db = sqlite3.connect(f"file:{central}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT m.id, c.time FROM checks c JOIN monitors m ON m.key = c.monitor"
            " WHERE c.location = ?",
            (CUT,),
        ).fetchall()
    finally:
        db.close()
    expected = [k for k in ledger if k not in left]  # still spooled at the stop: not lost
    have, known = {(m, t) for m, t in rows}, set(ledger)
    lost = [k for k in expected if k not in have]
    stored: dict[tuple[str, float], int] = {}
    for key in rows:
        stored[key] = stored.get(key, 0) + 1
    return {
        "spooled": len(ledger) + inconclusive,
        "inconclusive": inconclusive,
        "left_in_spool": len(left),
        "expected": len(expected),
        "stored": len(rows),
        "lost": len(lost),
        "lost_sample": [[m, round(t, 3)] for m, t in lost[:10]],
        "duplicated": sum(n - 1 for n in stored.values()),
        "unexpected": sum(1 for k in stored if k not in known),
    }


async def distributed(args, tmp: Path, base: str, session, single: dict) -> dict:
    flip = FlipTarget()
    runner, flip_port = await flip.serve()
    monitors = fleet(args, base) + [
        {
            "kind": "http",
            "id": f"flip{k}",
            "component": "c0",
            "url": f"http://127.0.0.1:{flip_port}/flip",
            "interval": f"{round(args.flip_interval * 1000)}ms",
            "timeout": f"{round(args.flip_interval * 500)}ms",
            "confirm_failures": 1,
            "confirm_recoveries": 1,
        }
        for k in range(args.flip_monitors)
    ]
    port = free_port()
    central = start_run(config(args, tmp, "central", port, monitors), tmp)
    db = tmp / "central.db"
    agents: dict[str, subprocess.Popen] = {}
    relays = {loc: Relay(port) for loc in LOCATIONS}  # each reads its agent's uploads
    relay = relays[CUT]
    try:
        await wait_ready(session, port, central)
        for loc in LOCATIONS:
            await relays[loc].open()
            agents[loc] = start_agent(loc, f"http://127.0.0.1:{relays[loc].port}", tmp)
        await asyncio.sleep(args.warmup)
        spools = {loc: tmp / f"agent-{loc}.spool" for loc in LOCATIONS}
        led = "SELECT count(*) FROM ledger"

        def snap() -> tuple:
            return (
                time.monotonic(),
                tree_cpu(central.pid),
                checks(db),
                {loc: tree_cpu(p.pid) for loc, p in agents.items()},
                {loc: count(spools[loc], led) for loc in LOCATIONS},
            )

        s0 = snap()
        await asyncio.sleep(args.duration)
        s1 = snap()
        results = s1[2] - s0[2]
        per_agent = {}
        for loc in LOCATIONS:
            probes = s1[4][loc] - s0[4][loc]
            cpu = s1[3][loc] - s0[3][loc]
            ms_per = cpu / probes * 1000 if probes else None
            ratio = (
                ms_per / single["cpu_per_probe_ms"]
                if ms_per and single["cpu_per_probe_ms"]
                else None
            )
            per_agent[loc] = {
                "probes": probes,
                "cpu_s": round(cpu, 3),
                "cpu_per_probe_ms": round(ms_per, 4) if ms_per else None,
                "ratio_to_single": round(ratio, 3) if ratio else None,
            }
        central_cpu = s1[1] - s0[1]
        steady = {
            "window_s": round(s1[0] - s0[0], 2),
            "results": results,
            "results_per_s": round(results / (s1[0] - s0[0]), 1),
            "central_cpu_s": round(central_cpu, 3),
            "central_cpu_per_1k": round(central_cpu / results * 1000, 4) if results else None,
            "agents": per_agent,
        }
        log(f"steady: {steady}")
        flips = await verdict_delays(args, db, relays, flip)
        part = await partition(args, tmp, relay)
        await asyncio.sleep(3)
    finally:
        codes = {loc: stop(p) for loc, p in agents.items()}
        central_code = stop(central)
        for r in relays.values():
            if r.server is not None:
                await r.cut()  # its handlers end here, not cancelled at the loop's close
        await asyncio.sleep(0.1)
        await runner.cleanup()
    part["ledger"] = ledger_check(tmp, db)
    delays = flips["delays"]["down"] + flips["delays"]["up"]
    verdict = {
        "samples": len(delays),
        "never": flips["never"],
        "unmatched": flips["unmatched"],
        **quantiles(delays),
        "down": quantiles(flips["delays"]["down"]),
        "up": quantiles(flips["delays"]["up"]),
    }
    return {
        "steady": steady,
        "verdict": verdict,
        "partition": part,
        "exit_codes": {"central": central_code, **codes},
    }


def quantiles(values: list[float]) -> dict:
    ordered = sorted(values)
    if not ordered:
        return {}
    q = lambda p: round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 4)  # noqa: E731
    return {"p50_s": q(0.5), "p99_s": q(0.99), "max_s": q(1.0), "n": len(ordered)}


def start_target() -> tuple[subprocess.Popen, str]:
    """The probe target (_bench_target.py) on a free port, once it serves; its base URL."""
    port = free_port()
    target = subprocess.Popen(
        [sys.executable, str(HERE / "_bench_target.py"), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent,
    )
    target.stdout.readline()  # READY
    return target, f"http://127.0.0.1:{port}"


async def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-locations-") as tmpdir:
        tmp = Path(tmpdir)
        target, base = start_target()
        try:
            async with aiohttp.ClientSession() as session:
                single = await single_node(args, tmp, base, session)
                dist = await distributed(args, tmp, base, session, single)
        finally:
            target.terminate()
            target.wait()
    return {"config": vars(args), "single_node": single, **dist}


def verdicts(res: dict) -> list[tuple[str, str, bool]]:
    steady, part = res["steady"], res["partition"]
    ratios = [a["ratio_to_single"] or 99 for a in steady["agents"].values()]
    v = res["verdict"]
    p99 = v.get("p99_s")
    rate = part["replay_per_s"] or 0
    central = part["central_per_s"] or 0
    led = part["ledger"]
    return [
        (
            f"central CPU per 1,000 results <= {TARGETS['central_cpu_per_1k']}",
            f"{steady['central_cpu_per_1k']} CPU-s",
            (steady["central_cpu_per_1k"] or 99) <= TARGETS["central_cpu_per_1k"],
        ),
        (
            f"agent CPU per probe / single node's <= {TARGETS['agent_cpu_ratio']}",
            " / ".join(f"{r:.2f}" for r in ratios),
            max(ratios) <= TARGETS["agent_cpu_ratio"],
        ),
        (
            f"verdict delay p99 <= {TARGETS['verdict_p99_s']} s after arrival",
            f"{p99} s (n = {v['samples']}, never {v['never']}, unmatched {v['unmatched']})",
            p99 is not None and p99 <= TARGETS["verdict_p99_s"] and not v["never"],
        ),
        (
            f"replay >= {TARGETS['replay_per_s']:,.0f} results/s (spool drained)",
            f"{rate:,.0f}/s ({part['backlog']} in {part['replay_s']} s)",
            rate >= TARGETS["replay_per_s"],
        ),
        (
            f"replay, central side >= {TARGETS['replay_per_s']:,.0f} results/s",
            f"{central:,.0f}/s ({part['uploads']} uploads, {part['central_s']} s answering)",
            central >= TARGETS["replay_per_s"],
        ),
        (
            "partition: zero lost, zero duplicated",
            f"lost {led['lost']}, duplicated {led['duplicated']} of {led['expected']}",
            led["lost"] == 0 and led["duplicated"] == 0 and led["unexpected"] == 0,
        ),
    ]


def report(res: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(res, indent=2))
        return
    s, single = res["steady"], res["single_node"]
    print(f"\n{res['config']['monitors']} monitors x 3 agents at {res['config']['interval']:g} s")
    print("| process | probes or results/s | CPU-s | per probe (ms) | / single node |")
    print("|---|---|---|---|---|")
    print(
        f"| single node | {single['probes_per_s']} | {single['cpu_s']} | "
        f"{single['cpu_per_probe_ms']} | 1 |"
    )
    for loc, a in s["agents"].items():
        print(
            f"| agent {loc} | {a['probes'] / s['window_s']:.1f} | {a['cpu_s']} | "
            f"{a['cpu_per_probe_ms']} | {a['ratio_to_single']} |"
        )
    print(
        f"| central | {s['results_per_s']} | {s['central_cpu_s']} | "
        f"{s['central_cpu_per_1k']} per 1,000 | - |"
    )
    print("\n| target | measured | |\n|---|---|---|")
    for name, measured, ok in verdicts(res):
        print(f"| {name} | {measured} | {'ok' if ok else 'FAIL'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--partition", type=float, default=600.0, help="seconds cut off")
    parser.add_argument("--duration", type=float, default=120.0, help="steady window (s)")
    parser.add_argument("--warmup", type=float, default=None, help="default: one interval + 10 s")
    parser.add_argument("--flips", type=int, default=10, help="down-and-up cycles")
    parser.add_argument("--flip-monitors", type=int, default=5)
    parser.add_argument("--flip-interval", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true", help="300 monitors at 10 s, 30 s cut")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.monitors, args.interval, args.partition = 300, 10.0, 30.0
        args.duration, args.flips = 20.0, 3
    if args.warmup is None:
        args.warmup = args.interval + 10
    report(asyncio.run(run(args)), args.json)


if __name__ == "__main__":
    main()
