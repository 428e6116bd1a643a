"""The load benchmarks still run end to end and say what the issue asks for.

Small runs only, and no timed assertion: the numbers depend on the machine;
docs/performance.md records the real ones.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parent.parent


def _run(script, *args):
    proc = subprocess.run([sys.executable, f"bench/{script}", *args, "--json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_vote_latency_reports_every_figure_and_loses_nothing():
    report = _run("vote_latency.py", "--participants", "20", "--votes", "20", "--duration", "2", "--rounds", "1")
    for key in ("p50_ms", "p95_ms", "p99_ms", "lost_votes", "errors", "server_cpu_s", "baseline_p95_ms",
                "ratio_p95"):
        assert key in report, key
    assert report["lost_votes"] == 0 and report["errors"] == 0, report
    assert report["app"]["votes"] == 20 and report["baseline"]["lost_votes"] == 0
    assert report["app"]["sockets_closed"] == 0
    assert report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"]


def test_join_storm_joins_everyone():
    report = _run("join_storm.py", "--joins", "20", "--duration", "1")
    assert report["joined"] == 20 and report["errors"] == 0, report
    assert report["sockets_open"] == 20
    assert report["join_p95_ms"] is not None and report["socket_p95_ms"] is not None
