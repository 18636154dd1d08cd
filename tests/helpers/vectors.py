"""The SLA rules' worked cases: the shared, authoritative file, or the copy in tests/data."""

from __future__ import annotations

import json
from pathlib import Path

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "sla" / "vectors.json"
LOCAL = Path(__file__).resolve().parents[1] / "data" / "sla_vectors.json"


def load_vectors() -> list[dict]:
    """Every worked case; a copy in tests/data keeps a lone clone testable."""
    path = VECTORS if VECTORS.exists() else LOCAL
    return json.loads(path.read_text(encoding="utf-8"))
