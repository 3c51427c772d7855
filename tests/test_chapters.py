"""Chapter metadata: validation errors and the generated tables."""

import json

import pytest

from genai_notes.chapters import chapter_map, chapter_table, list_chapters, read_chapter

# Chapter 97 has no exercise module, so its count of exercises is 0 whatever the book holds.
GOOD = {"chapter": 97, "title": "T", "objectives": ["a"], "prerequisites": ["b"], "minutes": 30}


def write(tmp_path, name, meta):
    path = tmp_path / name
    path.write_text(
        json.dumps({"cells": [], "metadata": {} if meta is None else {"genai_notes": meta}})
    )
    return path


def test_reads_a_valid_block(tmp_path):
    chapter = read_chapter(write(tmp_path, "97_the_transformer.ipynb", GOOD))
    assert (chapter.number, chapter.slug, chapter.minutes, chapter.exercises) == (
        97,
        "the_transformer",
        30,
        0,
    )


@pytest.mark.parametrize(
    ("name", "meta", "message"),
    [
        ("7_x.ipynb", GOOD, "NN_slug.ipynb"),
        ("97_X.ipynb", GOOD, "NN_slug.ipynb"),
        ("97_x.ipynb", None, "no 'genai_notes' block"),
        ("97_x.ipynb", {k: v for k, v in GOOD.items() if k != "minutes"}, "missing 'minutes'"),
        ("98_x.ipynb", GOOD, "metadata says chapter 97 but the file name says 98"),
        ("97_x.ipynb", {**GOOD, "minutes": "thirty"}, "'minutes': expected an integer"),
        ("97_x.ipynb", {**GOOD, "objectives": []}, "'objectives': expected a non-empty list"),
        ("97_x.ipynb", {**GOOD, "title": ""}, "'title'"),
    ],
)
def test_invalid_blocks_are_reported_clearly(tmp_path, name, meta, message):
    with pytest.raises(ValueError, match=message):
        read_chapter(write(tmp_path, name, meta))


def test_not_json(tmp_path):
    path = tmp_path / "97_x.ipynb"
    path.write_text("{")
    with pytest.raises(ValueError, match="not a valid notebook"):
        read_chapter(path)


def test_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="folder"):
        list_chapters(tmp_path / "nope")


def test_tables_include_every_field(tmp_path):
    write(tmp_path, "97_x.ipynb", {**GOOD, "objectives": ["one", "two"]})
    chapters = list_chapters(tmp_path)
    table = chapter_table(chapters, link_prefix="../notebooks/")
    assert "| [97. T](../notebooks/97_x.ipynb) | • one<br>• two | b | 30 | 0 |" in table
    assert chapter_map(chapters) == "- [97. T](97_x.ipynb) (30 min, 0 exercises)"


def test_pipes_in_metadata_do_not_break_the_table(tmp_path):
    write(tmp_path, "97_x.ipynb", {**GOOD, "objectives": ["estimate p(y | x)"]})
    row = chapter_table(list_chapters(tmp_path)).splitlines()[2]
    assert row.count(" | ") == 4  # five cells: the escaped pipe does not split a cell
    assert "p(y \\| x)" in row
