"""`voltprobe report` on large inputs: two reports of N probe rows each (both families,
per-pod endpoints advertised), merged by the installed CLI as a whole process.

    python bench/bench_report.py [--rows 1000] [--runs 9]

Prints the median and range of the wall time for the merge, and for reading one report
alone (`voltprobe report A.json -o json`: schema validation + typed read + render), so
the merge's own cost can be told from start-up and validation. No network traffic.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.reports import lb_service, local, report  # noqa: E402

VOLTPROBE = str(Path(sys.executable).parent / "voltprobe")


def addresses(prefix4: str, prefix6: str, count: int) -> list[str]:
    half = count // 2
    return [f"{prefix4}.{i // 250}.{i % 250 + 1}" for i in range(half)] + [
        f"{prefix6}::{i + 1:x}" for i in range(count - half)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    a_addr = addresses("10.1", "2001:db8:a", args.rows)
    b_addr = addresses("10.2", "2001:db8:b", args.rows)
    a_local = local(*(lb_service(x, name=f"a-{i}") for i, x in enumerate(a_addr)))
    b_local = local(*(lb_service(x, name=f"b-{i}") for i, x in enumerate(b_addr)))
    a = report("a", "b", dict.fromkeys(b_addr, "open"), a_local)
    b = report(
        "b", "a", {x: ("open" if i % 7 else "filtered") for i, x in enumerate(a_addr)}, b_local
    )
    with tempfile.TemporaryDirectory() as tmp:
        files = [Path(tmp) / "a.json", Path(tmp) / "b.json"]
        for path, doc in zip(files, (a, b), strict=True):
            path.write_text(json.dumps(doc))
        size = files[0].stat().st_size
        for label, argv in (
            ("read one report", [VOLTPROBE, "report", str(files[0]), "-o", "json"]),
            ("merge two", [VOLTPROBE, "report", *map(str, files), "-o", "json"]),
        ):
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                done = subprocess.run(argv, capture_output=True, check=False)
                times.append(time.perf_counter() - started)
                assert done.returncode in (0, 1), done.stderr
            print(
                f"{label}: {args.rows} rows/report ({size / 1e6:.1f} MB): median "
                f"{statistics.median(times):.3f} s, {min(times):.3f}-{max(times):.3f} s"
            )


if __name__ == "__main__":
    main()
