"""contrib/: the Prometheus rules pass promtool's checks and unit tests; the Grafana dashboard is
valid, uses the datasource variable, and only queries metrics statuswatch exposes."""

from __future__ import annotations

import json
import re
import subprocess

from prometheus_client import CollectorRegistry, ProcessCollector

from statuswatch.metrics.collector import exposed_names
from tests.helpers.system import ROOT, require_tool

RULES = ROOT / "contrib" / "prometheus" / "statuswatch-rules.yml"
RULE_TESTS = sorted((ROOT / "contrib" / "prometheus" / "tests").glob("*.test.yml"))
DASHBOARD = ROOT / "contrib" / "grafana" / "statuswatch.json"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_rules_pass_promtool_check():
    out = promtool("check", "rules", str(RULES))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


def test_rule_unit_tests_pass():
    """Each alert fires when it should and not otherwise (tests/*.test.yml say when)."""
    assert len(RULE_TESTS) >= 2
    out = promtool("test", "rules", *map(str, RULE_TESTS))
    assert out.returncode == 0, out.stdout + out.stderr
    alerts = set(re.findall(r"^\s+- alert: (\w+)", RULES.read_text(), flags=re.M))
    tested = set()
    for path in RULE_TESTS:
        tested |= set(re.findall(r"alertname: (\w+)", path.read_text()))
    assert alerts and alerts == tested, f"alerts without a unit test: {alerts - tested}"


def recorded_names() -> set[str]:
    return set(re.findall(r"^\s+- record: (\S+)", RULES.read_text(), flags=re.M))


def known_names() -> set[str]:
    process = {
        s.name
        for fam in ProcessCollector(registry=CollectorRegistry()).collect()
        for s in fam.samples
    }
    return exposed_names() | process | recorded_names()


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects (identifiers followed by a selector or range, or
    standing alone), not functions, keywords, label names or label values."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # drop string literals
    expr = re.sub(r"\{[^}]*\}", "{}", expr)  # drop label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # drop ranges and subqueries' steps
    expr = re.sub(r"\boffset\s+\w+", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    words = re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*(?![a-zA-Z0-9_:]*\s*\()", expr)
    keywords = {"and", "or", "unless", "offset", "bool", "inf", "nan"}
    return {w for w in words if w not in keywords}


def test_metric_name_extraction():
    assert metric_names('sum by (a) (rate(x_total{a="b"}[5m])) / on (a) y') == {"x_total", "y"}
    assert metric_names("histogram_quantile(0.9, rate(h_bucket[5m])) or vector(0)") == {"h_bucket"}


def rule_exprs() -> list[str]:
    """The `expr:` values of the rules file: inline, or a `|` / `>` block (no YAML parser here)."""
    lines = RULES.read_text(encoding="utf-8").splitlines()
    exprs = []
    for i, line in enumerate(lines):
        match = re.match(r"^(\s+)expr: ?(.*)$", line)
        if not match:
            continue
        indent, rest = len(match[1]), match[2].strip()
        if rest not in ("|", ">"):
            exprs.append(rest)
            continue
        block = []
        for nxt in lines[i + 1 :]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                break
            block.append(nxt.strip())
        exprs.append(" ".join(block))
    return exprs


def test_rules_only_use_exposed_metrics():
    exprs = rule_exprs()
    assert len(exprs) == 20
    used = set().union(*(metric_names(e) for e in exprs))
    assert "statuswatch_sla_up" in used
    assert used <= known_names(), f"unknown metrics: {used - known_names()}"


def test_dashboard_is_valid_and_queries_existing_metrics():
    dash = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    assert len(panels) >= 15
    exprs = []
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
            exprs.append((panel["title"], target["expr"]))
    for var in variables.values():
        if var["type"] == "query":
            assert var["datasource"]["uid"] == "${datasource}"
            inner = re.fullmatch(r"label_values\((.+), \w+\)", var["query"]["query"])
            exprs.append((var["name"], inner[1]))
    known = known_names()
    used: set[str] = set()
    for title, expr in exprs:
        names = metric_names(expr)
        assert names, f"{title}: no metric in {expr!r}"
        assert names <= known, f"{title}: unknown metrics {names - known}"
        used |= names
    # Every statuswatch family shows up somewhere on the dashboard.
    families = {n for n in exposed_names() if not n.endswith(("_sum", "_count"))} - {
        "statuswatch_probe_latency_seconds",
        "statuswatch_scheduler_lateness_seconds",
        "statuswatch_db_write_seconds",  # histograms/summaries: used via their suffixed names
    }
    assert families - used == set()
    # Coverage stands beside the availability it qualifies, in the same panel.
    by_panel: dict[str, set[str]] = {}
    for title, expr in exprs:
        by_panel.setdefault(title, set()).update(metric_names(expr))
    for availability, coverage in [
        ("statuswatch_availability_ratio", "statuswatch_coverage_ratio"),
        ("statuswatch_sla_availability_ratio", "statuswatch_sla_coverage_ratio"),
    ]:
        beside = [names for names in by_panel.values() if availability in names]
        assert beside and all(coverage in names for names in beside), availability
