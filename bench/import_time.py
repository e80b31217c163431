"""How long `import skill.app` takes in a fresh interpreter: what every cold start (server or Lambda) pays first."""
from __future__ import annotations

import statistics
import subprocess
import sys
import time

from skill.settings import PROJECT_ROOT


def import_time_ms(module: str, samples: int) -> float:
    """Median wall time of fresh `python -c "import <module>"` runs minus that of `python -c pass`."""
    imports, baselines = [], []
    for _ in range(samples):  # interleaved, so machine noise hits both alike
        baselines.append(_time_python("pass"))
        imports.append(_time_python(f"import {module}"))
    return (statistics.median(imports) - statistics.median(baselines)) * 1000


def _time_python(code: str) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"python -c {code!r} failed:\n{result.stderr[-2000:]}")
    return elapsed
