"""The http probe's CPU: statuswatch's path against a bare aiohttp loop and libcurl (pycurl).

The experiment: is libcurl's multi interface, through pycurl and driven by the asyncio event
loop, at least 1.5x cheaper per probe than statuswatch's aiohttp-based http probe? Starts an
HTTP and an HTTPS target on 127.0.0.1 (_bench_target.py; the HTTPS one with a trustme
certificate), then runs each client in its own process, in turn, at the same fixed rate, a fresh
connection per probe (_bench_curl.py):

  statuswatch  probes.run_probe with a real HttpMonitor and ProbeContext
  aiohttp      a bare aiohttp loop (one force_close session)
  curl         a pycurl CurlMulti on the event loop's sockets and timers

and prints CPU-s per 1,000 probes of each client process with the ratios to curl. Needs
`pip install pycurl` (a binary wheel bundles libcurl and its OpenSSL) and trustme (test extra).

Run:
  .venv/bin/python bench/curl_probe.py                       # 200 probes/s, 20 s each
  .venv/bin/python bench/curl_probe.py --rate 400 --duration 30 --rounds 2 --json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _bench_common import free_port, log  # noqa: E402
from probes import run_contender, stop_all  # noqa: E402

MODES = ("statuswatch", "aiohttp", "curl")
ADOPT_RATIO = 1.5  # curl must be this many times cheaper per probe than statuswatch's path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n", 2)[2],
    )
    parser.add_argument("--rate", type=float, default=200.0, help="probes per second (200)")
    parser.add_argument("--interval", type=float, default=10.0, help="per monitor (10)")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds (20)")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=512, help="probes in flight at most")
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat, interleaved; each round's ratios kept"
    )
    parser.add_argument("--protocols", default="http,https")
    parser.add_argument("--loop", choices=["auto", "asyncio"], default="auto")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    return parser.parse_args(argv)


def start_target(tls_cert: str | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, str(HERE / "_bench_target.py"), "--port", str(port)]
    cmd += ["--max-seconds", "7200"] + (["--tls-cert", tls_cert] if tls_cert else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("READY"):
        raise SystemExit(f"target did not start: {line!r}")
    return proc, f"{'https' if tls_cert else 'http'}://127.0.0.1:{port}"


def certificates(tmp: Path) -> tuple[str, str]:
    """(the server's key + chain PEM, the CA PEM), from a throwaway trustme CA."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server, ca_file = tmp / "server.pem", tmp / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(server))
    ca.cert_pem.write_to_path(str(ca_file))
    return str(server), str(ca_file)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    protocols = [p.strip() for p in args.protocols.split(",") if p.strip()]
    monitors = max(1, round(args.rate * args.interval))
    results: dict[str, dict[str, dict]] = {p: {} for p in protocols}
    rounds: dict[str, list[dict[str, dict | None]]] = {p: [] for p in protocols}
    with tempfile.TemporaryDirectory(prefix="bench-curl-") as tmpdir:
        server_pem, ca_file = certificates(Path(tmpdir))
        for protocol in protocols:
            target, base = start_target(server_pem if protocol == "https" else None)
            try:
                for _round in range(args.rounds):
                    this_round: dict[str, dict | None] = {}
                    rounds[protocol].append(this_round)
                    for mode in MODES:
                        cmd = [
                            sys.executable,
                            str(HERE / "_bench_curl.py"),
                            mode,
                            "--base",
                            base,
                            "--monitors",
                            str(monitors),
                            "--interval",
                            str(args.interval),
                            "--duration",
                            str(args.duration),
                            "--warmup",
                            str(args.warmup),
                            "--timeout",
                            str(args.timeout),
                            "--workers",
                            str(args.workers),
                            "--loop",
                            args.loop,
                        ] + (["--ca-file", ca_file] if protocol == "https" else [])
                        budget = args.warmup + args.duration + 60
                        res = run_contender(f"{protocol} {mode}", cmd, budget, [target])
                        this_round[mode] = res
                        if res is not None and _better(res, results[protocol].get(mode)):
                            results[protocol][mode] = res
            finally:
                stop_all([target])
    report = summarize(results, rounds)
    print_report(args, monitors, results, report)
    if args.json:
        print(json.dumps({"config": vars(args), "results": results, "summary": report}))
    return 0


def _better(res: dict, best: dict | None) -> bool:
    """The run to show: fewest failures (a failed probe costs less), then least CPU."""
    if best is None:
        return True
    return (res["failures"], res["cpu_per_1k"]) < (best["failures"], best["cpu_per_1k"])


def _round_ratios(rounds: list[dict[str, dict | None]]) -> dict[str, list[float]]:
    """statuswatch / curl and aiohttp / curl of each round in which no client failed a probe."""
    out: dict[str, list[float]] = {"statuswatch_over_curl": [], "aiohttp_over_curl": []}
    for one in rounds:
        if any(res is None or res["failures"] for res in one.values()):
            continue
        for mode in ("statuswatch", "aiohttp"):
            out[f"{mode}_over_curl"].append(
                round(one[mode]["cpu_per_1k"] / one["curl"]["cpu_per_1k"], 3)  # type: ignore[index]
            )
    return out


def summarize(results: dict[str, dict[str, dict]], rounds: dict[str, list]) -> dict:
    """Per protocol: each client's CPU per 1k and ratios to curl; the verdict."""
    out: dict = {}
    for protocol, by_mode in results.items():
        cpu = {mode: (by_mode.get(mode) or {}).get("cpu_per_1k") for mode in MODES}
        curl = cpu["curl"]
        ratio = {
            f"{mode}_over_curl": round(cpu[mode] / curl, 3) if cpu[mode] and curl else None
            for mode in ("statuswatch", "aiohttp")
        }
        out[protocol] = {"cpu_per_1k": cpu, **ratio, "rounds": _round_ratios(rounds[protocol])}
    ratios = [r["statuswatch_over_curl"] for r in out.values() if isinstance(r, dict)]
    known = [r for r in ratios if r is not None]
    out["adopt_threshold"] = ADOPT_RATIO
    out["cheaper_enough"] = bool(known) and len(known) == len(ratios) and min(known) >= ADOPT_RATIO
    return out


def print_report(args: argparse.Namespace, monitors: int, results: dict, report: dict) -> None:
    print(
        f"\n{args.rate:g} probes/s ({monitors} monitors every {args.interval:g}s), a fresh "
        f"connection per probe, {args.duration:g}s measured after {args.warmup:g}s; each "
        f"client's run with the fewest failures, then the least CPU, of {args.rounds}\n"
    )
    head = (
        f"{'protocol':<9}{'client':<13}{'probes/s':>9}{'CPU-s/1k':>10}{'p99 late ms':>12}"
        f"{'RSS MB':>8}{'fails':>6}{'tgt %':>7}"
    )
    print(head)
    print("-" * len(head))
    for protocol, by_mode in results.items():
        for mode in MODES:
            res = by_mode.get(mode)
            if res is None:
                print(f"{protocol:<9}{mode:<13}{'FAILED':>9}")
                continue
            late = (res.get("lateness") or {}).get("p99_ms")
            print(
                f"{protocol:<9}{mode:<13}{res['probes_per_s']:>9.1f}{res['cpu_per_1k']:>10.3f}"
                f"{late if late is not None else '-':>12}{res['rss_peak_mb']:>8.0f}"
                f"{res['failures']:>6}{res.get('target_cpu_pct', 0):>7.0f}"
            )
            if res["failures"]:
                print(f"{'':22}failures: {res['failure_reasons']}")
    print()
    for protocol in results:
        part = report[protocol]
        print(
            f"{protocol}: statuswatch / curl {part['statuswatch_over_curl']}, "
            f"bare aiohttp / curl {part['aiohttp_over_curl']} (CPU per probe); rounds with no "
            f"failure: {part['rounds']['statuswatch_over_curl']} and "
            f"{part['rounds']['aiohttp_over_curl']}"
        )
    verdict = "is" if report["cheaper_enough"] else "is not"
    print(
        f"curl {verdict} >= {ADOPT_RATIO}x cheaper per probe than statuswatch's path "
        f"on every protocol measured"
    )
    log("done")


if __name__ == "__main__":
    raise SystemExit(main())
