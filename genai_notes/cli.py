"""The ``genai-notes`` command: tools for instructors.

* ``genai-notes student NOTEBOOK... -o DIR`` writes student copies (solutions replaced by stubs).
* ``genai-notes chapters [--notebooks DIR]`` prints the chapter table from notebook metadata.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genai-notes", description="Tools for the genai-notes book."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="write student copies of chapter notebooks")
    student.add_argument("notebooks", nargs="+", help="chapter notebooks (.ipynb)")
    student.add_argument("-o", "--out", required=True, help="output directory")
    chapters = commands.add_parser("chapters", help="print the chapter table")
    chapters.add_argument("--notebooks", default="notebooks", help="folder of chapter notebooks")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _build_parser().parse_args(argv)
    if args.command == "student":
        from genai_notes.student import make_student_copy

        for path in args.notebooks:
            try:
                print(make_student_copy(path, args.out))
            except (OSError, ValueError) as exc:
                print(f"genai-notes student: {exc}", file=sys.stderr)
                return 1
        return 0
    from genai_notes.chapters import chapter_table, list_chapters

    print(chapter_table(list_chapters(args.notebooks)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
