"""Re-run chapter notebooks in place, each in a fresh kernel, and store their outputs.

Usage: python tools/execute_notebooks.py notebooks/01_*.ipynb [...]

Outputs (and widget state, so sliders render in the HTML book) are written back into the
notebook, which is what nbval later compares against a fresh run. Timing metadata is not
recorded, so re-running an unchanged notebook gives an unchanged file.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=True,
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(notebook, path)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args()
    # Reference solutions must pass their own checks while the outputs are made.
    os.environ["GENAI_NOTES_STRICT_EXERCISES"] = "1"
    for path in args.notebooks:
        elapsed = execute(path)
        print(f"{path}: executed in {elapsed:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
