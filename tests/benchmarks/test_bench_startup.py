"""Time to first window (run: pytest -m bench -s tests/benchmarks/test_bench_startup.py)."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.bench


def test_time_to_first_window(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    inside, ready, outside = [], [], []
    for i in range(5):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "workbench", "--timing", "--screenshot",
             str(tmp_path / f"s{i}.png")], capture_output=True, text=True, env=env, timeout=120)
        outside.append(time.perf_counter() - t0)
        assert proc.returncode == 0, proc.stderr
        inside.append(float(re.search(r"first window after (\d+) ms", proc.stderr).group(1)))
        ready.append(float(re.search(r"panel ready after (\d+) ms", proc.stderr).group(1)))
    median_inside = statistics.median(inside)
    print(f"\nfirst window shown (interpreter start excluded): median {median_inside:.0f} ms"
          f"\nRectify panel built with its sample: median {statistics.median(ready):.0f} ms"
          f"\nwhole process incl. interpreter, screenshot delay 600 ms and exit: "
          f"median {statistics.median(outside) * 1000:.0f} ms")
