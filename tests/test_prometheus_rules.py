"""The alert rules and the fleet dashboard: `promtool check rules`, `promtool test rules` (the
rules' own unit tests), every dashboard query parsed by promtool, and every metric they name is
one the agent writes. promtool comes with Debian's `prometheus` package (.ci/run installs it);
without it these tests skip."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .test_metrics import EVERY_METRIC

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "deploy" / "prometheus" / "terminal-agent.rules.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "terminal-agent.rules.test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "terminal-agent-fleet.json"
ALERTS = {"TerminalAgentAdviceParked", "TerminalAgentAdviceOlderThanAnHour",
          "TerminalAgentForwarderHeartbeatStale", "TerminalAgentPrinterOutOfPaper",
          "TerminalAgentRefundDueUnpaid"}
# names a query may use besides ours: node_exporter's, and our own recording rule
OTHER_NAMES = {"node_textfile_mtime_seconds", "terminal_agent:trading_hours"}
SERIES = {f"{m}{s}" for m in EVERY_METRIC for s in ("", "_total", "_bucket", "_count", "_sum")}


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool not installed (Debian package `prometheus`)")
    return path


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def names_in(expr: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', '""', expr)  # label values are not metric names
    return set(re.findall(r"\b(terminal_agent[:\w]*|node_\w+)", without_strings))


def dashboard_queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [t["expr"] for p in panels for t in p["targets"]]


def test_rules_are_valid_and_cover_what_must_wake_someone() -> None:
    result = run("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    assert ALERTS <= {r.get("alert") for r in rules}


def test_rules_unit_tests_pass() -> None:
    result = run("test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text()))
    assert ALERTS <= tested


def test_rules_and_dashboard_name_only_metrics_the_agent_writes() -> None:
    exprs = [r["expr"] for r in yaml.safe_load(RULES.read_text())["groups"][0]["rules"]]
    for expr in exprs + dashboard_queries():
        unknown = names_in(expr) - SERIES - OTHER_NAMES
        assert not unknown, (expr, unknown)


def test_dashboard_queries_parse(tmp_path: Path) -> None:
    """Each panel's query, with Grafana's variables filled in, as a recording rule that promtool
    parses: a typo in PromQL fails here, not on the chain's screen."""
    dash = json.loads(DASHBOARD.read_text())
    assert {v["name"] for v in dash["templating"]["list"]} >= {"store", "terminal"}
    rules = [{"record": f"dashboard:query_{i}",
              "expr": q.replace("$__rate_interval", "5m").replace("$store", ".*")
                       .replace("$terminal", ".*")}
             for i, q in enumerate(dashboard_queries())]
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
