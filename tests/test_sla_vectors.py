"""Every worked case in shared/sla/vectors.json passes to the digit through the real command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers.vectors import LOCAL, VECTORS, load_vectors

CASES = load_vectors()


def run_evaluate(payload: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "statuswatch", "sla", "evaluate"],
        input=payload,
        capture_output=True,
        text=True,
        check=False,
    )


def test_local_copy_matches_the_shared_vectors():
    if VECTORS.exists():
        assert json.loads(LOCAL.read_text()) == json.loads(VECTORS.read_text())


def test_all_vectors_in_one_invocation():
    proc = run_evaluate(json.dumps([c["input"] for c in CASES]))
    assert proc.returncode == 0, proc.stderr
    outputs = json.loads(proc.stdout)
    assert len(outputs) == len(CASES) >= 56
    for case, got in zip(CASES, outputs, strict=True):
        assert got == case["expect"], case["name"]
        # "to the digit": same keys, same types, bit-identical floats
        assert list(got) == list(case["expect"]) or set(got) == set(case["expect"])
        for key, value in case["expect"].items():
            assert type(got[key]) is type(value), (case["name"], key)


@pytest.mark.parametrize("case", CASES[:3], ids=[c["name"] for c in CASES[:3]])
def test_single_document_in_single_document_out(case):
    proc = run_evaluate(json.dumps(case["input"]))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == case["expect"]


BASE = {"period": {"month": "2026-10"}, "target_percent": 99.9, "credit": {"scheme": "none"}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "colour: unknown key"),
        ({"period": {"month": "2026-13"}}, "period.month: must be YYYY-MM"),
        ({"period": {"month": "2026-10", "timezone": "Mars/Base"}}, "period.timezone: unknown"),
        (
            {"downtime": [{"start": "2026-10-02T00:00:00Z", "end": "2026-10-01T00:00:00Z"}]},
            "downtime[0].end: before start",
        ),
        (
            {"maintenance": [{"start": "yesterday", "end": "2026-10-01T00:00:00Z"}]},
            "maintenance[0].start: not an ISO 8601 date-time",
        ),
        (
            {"unmonitored": [{"start": "2026-10-01T00:00:00", "end": "2026-10-01T01:00:00Z"}]},
            "unmonitored[0].start: needs a UTC offset",
        ),
        ({"credit": {"scheme": "bitcoin"}}, "credit.scheme"),
        ({"credit": {"scheme": "tiered"}}, "credit.tiers: required key is missing"),
        ({"target_percent": "high"}, "target_percent"),
        ({"downtime": [{"start": "2026-10-01T00:00:00Z"}]}, "downtime[0].end: required key"),
    ],
)
def test_bad_input_exits_2_naming_the_field(change, message):
    proc = run_evaluate(json.dumps({**BASE, **change}))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_malformed_json_exits_2():
    proc = run_evaluate("{not json")
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr
