"""What a benchmark ran on, printed with every result so figures can be compared fairly."""

from __future__ import annotations

import os
import platform


def describe(libraries: str) -> str:
    """CPU, cores, OS and Python, then ``libraries`` (the versions that matter to the figure)."""
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as info:  # Linux only; good enough for the record
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {libraries}"
    )
