"""`statuswatch agent` as a real process, and reads of what the central database holds."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.helpers.system import ROOT

LAB_TOKEN = "lab-agent-token-0123456789abcdef"
OTHER_TOKEN = "far-agent-token-0123456789abcdef"
# Two locations: "lab" (the agents under test) and "far" (a token for the 403 cases).
LOCATIONS = (
    '[[locations]]\nid = "lab"\nname = "Lab"\ntoken_env = "LAB_TOKEN"\n\n'
    '[[locations]]\nid = "far"\nname = "Far"\ntoken_env = "FAR_TOKEN"\n\n'
    '[probing]\nlocations = ["lab"]\n'
)
TOKENS = {"LAB_TOKEN": LAB_TOKEN, "FAR_TOKEN": OTHER_TOKEN}


class AgentProcess:
    """One `statuswatch agent` (of location lab unless told), its log beside its spool."""

    def __init__(
        self,
        tmp_path: Path,
        server_port: int,
        *,
        agent_id: str = "a1",
        poll: float = 0.3,
        location: str = "lab",
        token: str = LAB_TOKEN,
        env: dict[str, str] | None = None,
        server_host: str = "127.0.0.1",
        prefix: Sequence[str] = (),  # e.g. `ip netns exec NAME`: where the agent runs
    ) -> None:
        self.spool = tmp_path / f"{agent_id}.spool"
        self.log_path = tmp_path / f"agent-{agent_id}.log"
        env = {
            **{k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")},
            "STATUSWATCH_AGENT_TOKEN": token,
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        args = [
            *("--server", f"http://{server_host}:{server_port}", "--location", location),
            *("--spool", str(self.spool), "--agent-id", agent_id, "--poll", str(poll)),
        ]
        with self.log_path.open("a") as log:
            self.proc = subprocess.Popen(
                [*prefix, sys.executable, "-m", "statuswatch", "agent", *args],
                stdout=log,
                stderr=log,
                env=env,
                cwd=tmp_path,
            )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def spooled(self) -> list[float]:
        """Check times waiting in the spool."""
        if not self.spool.exists():
            return []
        with sqlite3.connect(self.spool) as db:
            return [t for (t,) in db.execute("SELECT time FROM results ORDER BY time")]


def checks(db_path: Path, location: str = "lab") -> list[tuple[str, float]]:
    """(monitor id, time) of every stored check from `location`, oldest first."""
    if not db_path.exists():
        return []
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = db.execute(
            """SELECT m.id, c.time FROM checks c JOIN monitors m ON m.key = c.monitor
            WHERE c.location = ? ORDER BY c.time""",
            (location,),
        ).fetchall()
    except sqlite3.OperationalError:  # the schema is not there yet
        return []
    finally:
        db.close()
    return [(m, t) for m, t in rows]
