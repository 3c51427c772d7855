"""The ``genai-notes`` command: tools for instructors.

* ``genai-notes student NOTEBOOK... -o DIR`` writes student copies (solutions replaced by stubs).
* ``genai-notes chapters [--notebooks DIR]`` prints the chapter table from notebook metadata.
* ``genai-notes colab [--check]`` writes the Colab copies of the chapters into ``colab/``.
* ``genai-notes grade SUBMISSIONS... [-o results.csv] [--chapter N]`` grades returned
  notebooks with the package's checkers, each in its own kernel (:mod:`genai_notes.grading`).
"""

from __future__ import annotations

import argparse

from genai_notes import colab, grading, student

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genai-notes", description="Tools for the genai-notes book."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    student.add_arguments(
        commands.add_parser("student", help="write student copies of chapter notebooks")
    )
    chapters = commands.add_parser("chapters", help="print the chapter table")
    chapters.add_argument("--notebooks", default="notebooks", help="folder of chapter notebooks")
    colab.add_arguments(
        commands.add_parser("colab", help="write the Colab copies of the chapters (colab/)")
    )
    grading.add_arguments(
        commands.add_parser("grade", help="grade returned notebooks with the package's checkers")
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _build_parser().parse_args(argv)
    if args.command == "student":
        return student.run(args)
    if args.command == "colab":
        return colab.run(args)
    if args.command == "grade":
        return grading.run(args)
    from genai_notes.chapters import chapter_table, list_chapters

    print(chapter_table(list_chapters(args.notebooks)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
