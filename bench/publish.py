"""What every benchmark script does with its figures: print them and keep them in bench/."""

import json
import os
import platform
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def publish(results: dict, name: str) -> None:
    """Print ``results`` as an aligned table and write them to ``bench/NAME.json``."""
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    (BENCH / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
