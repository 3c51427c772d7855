"""Time ``genai-notes grade`` on 30 returned notebooks of Chapter 1, two graded at once.

Run from the repository root::

    .venv/bin/python benchmarks/bench_grading.py            # 30 submissions, --jobs 2
    .venv/bin/python benchmarks/bench_grading.py --n 60 --jobs 2

The submissions are whole student copies of Chapter 1 (every cell of the chapter runs again,
figures and all), made from the three returns in ``book/grading_example/``: a third complete,
a third partial, a third left as the untouched student copy, each under another name. The
target is under a minute for 30 with two in parallel. The wall-clock time is printed with the
machine's load average, since other jobs on a shared machine slow every kernel, and with the
CPU time the kernels used, which does not depend on the load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import tempfile
import time
from pathlib import Path

from genai_notes.grading import Limits, grade
from genai_notes.student import make_student_copy

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "book" / "grading_example"
CHAPTER_1 = ROOT / "notebooks" / "01_what_is_generative_ai.ipynb"


def submissions(folder: Path, n: int) -> None:
    """Write ``n`` returned notebooks into ``folder``, cycling complete, partial, untouched."""
    with tempfile.TemporaryDirectory() as tmp:
        untouched = make_student_copy(CHAPTER_1, tmp).read_text(encoding="utf-8")
    kinds = [
        (EXAMPLE / "ada_lovelace.ipynb").read_text(encoding="utf-8"),
        (EXAMPLE / "grace_hopper.ipynb").read_text(encoding="utf-8"),
        untouched,
    ]
    for i in range(n):
        notebook = json.loads(kinds[i % 3])
        for cell in notebook["cells"]:
            if cell.get("id") == "student-name":
                source = "".join(cell["source"])
                named = re.sub(r'student_name = ".*"', f'student_name = "Student {i:02d}"', source)
                cell["source"] = named.splitlines(keepends=True)
        path = folder / f"student_{i:02d}.ipynb"
        path.write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="submissions to grade")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        submissions(folder, args.n)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        start = time.perf_counter()
        rows = grade([folder], chapter=1, limits=Limits(), jobs=args.jobs, progress_bar=False)
        seconds = time.perf_counter() - start
    kernels = resource.getrusage(resource.RUSAGE_CHILDREN)  # the kernels, reaped by the grader
    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu = kernels.ru_utime + kernels.ru_stime
    statuses = {s: sum(r.status == s for r in rows) for s in sorted({r.status for r in rows})}
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, load {load:.1f} at start")
    print(f"graded {args.n} submissions of chapter 1 with --jobs {args.jobs}: {seconds:.1f} s")
    print(f"{seconds / args.n:.2f} s per submission; rows by status: {statuses}")
    print(
        f"CPU time: kernels {cpu:.1f} s ({cpu / args.n:.2f} s per submission), "
        f"grader {own.ru_utime + own.ru_stime:.1f} s; on {args.jobs} idle cores the kernels "
        f"alone would take about {cpu / args.jobs:.0f} s of wall time"
    )
    print(f"target under 60 s for 30: {'met' if seconds < 60 * args.n / 30 else 'not met'}")


if __name__ == "__main__":
    main()
