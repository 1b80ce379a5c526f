"""The fleet dashboard's picture, made honestly without Grafana (not available offline).

A real Prometheus (Debian's `prometheus` package) scrapes the `[metrics] listen` endpoints of
the real `forward` processes of ``bench.herd``'s real run every second; afterwards every panel
of ``deploy/grafana/terminal-agent-fleet.json`` has its own PromQL query run by that Prometheus
(``/api/v1/query_range``, Grafana's variables set to "All") and matplotlib draws the answers in
the dashboard's grid: ``docs/screenshots/dashboard.png``. The numbers are Prometheus's; the
drawing is ours, not Grafana's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, free_port

DASHBOARD = ROOT / "deploy" / "grafana" / "terminal-agent-fleet.json"
PICTURE = ROOT / "docs" / "screenshots" / "dashboard.png"


class PrometheusServer:
    """`prometheus` on 127.0.0.1 with a throw-away TSDB, scraping the given targets each second."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("prometheus") is not None

    def targets(self, targets: list[str]) -> None:
        cfg = self.tmp / "prometheus.yml"
        cfg.write_text(json.dumps({  # JSON is YAML
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "terminal-agent",
                                "static_configs": [{"targets": targets}]}]}))
        log = (self.tmp / "prometheus.log").open("wb")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={self.tmp / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}"], stdout=log, stderr=log)
        for _ in range(200):
            try:
                if httpx.get(self.url + "/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("prometheus did not start: " + (self.tmp / "prometheus.log").read_text()[-2000:])

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        r = httpx.get(self.url + "/api/v1/query_range", timeout=60,
                      params={"query": expr, "start": start, "end": end, "step": step})
        r.raise_for_status()
        return r.json()["data"]["result"]  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def _query(expr: str, window: float) -> str:
    rate = f"{max(4, int(window / 60))}s"
    return (expr.replace("$__rate_interval", rate).replace("$store", ".*")
            .replace("$terminal", ".*"))


def _legend(fmt: str, labels: dict[str, str]) -> str:
    out = fmt
    for k, v in labels.items():
        out = out.replace("{{" + k + "}}", v)
    return out


def render(prom: PrometheusServer, start: float, end: float, out: Path = PICTURE) -> Path:
    """Every panel's queries over [start, end], drawn in the dashboard's grid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dash = json.loads(DASHBOARD.read_text())
    panels = dash["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    fig = plt.figure(figsize=(16, rows * 0.42), facecolor="#181b1f")
    grid = fig.add_gridspec(rows, 24, hspace=4.0, wspace=1.2, top=0.95, bottom=0.03)
    step = max(1.0, (end - start) / 240)
    for p in panels:
        g = p["gridPos"]
        ax = fig.add_subplot(grid[g["y"]:g["y"] + g["h"], g["x"]:g["x"] + g["w"]])
        ax.set_facecolor("#111217")
        ax.set_title(p["title"], color="#d8d9da", fontsize=9, loc="left")
        for spine in ax.spines.values():
            spine.set_color("#2c3235")
        ax.tick_params(colors="#8e8e8e", labelsize=7)
        series = [(t, s) for t in p["targets"]
                  for s in prom.query_range(_query(t["expr"], end - start), start, end, step)]
        if p["type"] in ("stat", "table"):  # an instant query at the end: series still there
            _last_values(ax, p, [(t, s) for t, s in series
                                 if float(s["values"][-1][0]) >= end - 2 * step])
            continue
        for target, s in series:
            xs = [float(v[0]) - start for v in s["values"]]
            ys = [float(v[1]) for v in s["values"]]
            ax.plot(xs, ys, linewidth=1.2, label=_legend(target["legendFormat"], s["metric"]))
        ax.set_xlabel("seconds since the forwarders started", color="#8e8e8e", fontsize=7)
        if series and len(series) <= 8:
            ax.legend(fontsize=6, loc="upper right", facecolor="#181b1f", labelcolor="#d8d9da",
                      edgecolor="#2c3235")
    fig.suptitle(f"{dash['title']}: panels queried from a real Prometheus scraping 20 real "
                 "`terminal-agent forward` processes (drawn by matplotlib, not Grafana)",
                 color="#d8d9da", fontsize=10)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80, facecolor=fig.get_facecolor())
    plt.close(fig)
    return out


def _last_values(ax: Any, panel: dict[str, Any], series: list[tuple[dict[str, Any], Any]]) -> None:
    """Stat and table panels: the last value of each series, as text."""
    ax.set_xticks([])
    ax.set_yticks([])
    lines = []
    if panel["type"] == "table":
        tills: dict[str, dict[str, str]] = {}
        for target, s in series:
            key = f"{s['metric'].get('store', '')}/{s['metric'].get('terminal', '')}"
            tills.setdefault(key, {})[target["legendFormat"]] = f"{float(s['values'][-1][1]):.0f}"
        cols = [t["legendFormat"] for t in panel["targets"]]
        lines.append("till".ljust(26) + "".join(c.rjust(18) for c in cols))
        for key in sorted(tills)[:8]:
            lines.append(key.ljust(26) + "".join(tills[key].get(c, "-").rjust(18) for c in cols))
        if len(tills) > 8:
            lines.append(f"... {len(tills) - 8} more tills")
        ax.text(0.01, 0.95, "\n".join(lines), color="#d8d9da", fontsize=7, family="monospace",
                va="top", transform=ax.transAxes)
        return
    for target, s in series:
        label = _legend(target["legendFormat"], s["metric"])
        lines.append(f"{label}: {float(s['values'][-1][1]):.0f}")
    ax.text(0.5, 0.5, "\n".join(lines) or "no data", color="#73bf69", fontsize=11,
            ha="center", va="center", transform=ax.transAxes, fontweight="bold")
