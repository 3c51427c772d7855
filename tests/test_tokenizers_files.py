"""Saving and loading: readable JSON that round-trips, and clear errors for broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_notes.tokenizers import (
    BPETokenizer,
    CharTokenizer,
    Tokenizer,
    TokenizerFileError,
    WordTokenizer,
    bytes_to_readable,
    load_tokenizer,
    readable_to_bytes,
)

CORPUS = "the cat sat on the mat. naïve café 🙂🙂🙂 a\\b a\\b \\\\ 中文中文\n" * 10
BPE = BPETokenizer.train(CORPUS, vocab_size=330)
SAMPLE = "the naïve cat 🙂 sat\\on 中文 <pad>!"


@pytest.mark.parametrize(
    "tok",
    [BPE, CharTokenizer(), CharTokenizer.from_text(CORPUS), WordTokenizer.from_text(CORPUS)],
    ids=["bpe", "char-unicode", "char-alphabet", "word"],
)
def test_save_load_round_trip(tok: Tokenizer, tmp_path: Path) -> None:
    path = tmp_path / "tok.json"
    tok.save(path)
    for loaded in (type(tok).load(path), load_tokenizer(path)):
        assert type(loaded) is type(tok)
        assert loaded.vocab_size == tok.vocab_size
        assert loaded.special_tokens == tok.special_tokens
        text = SAMPLE if not isinstance(tok, CharTokenizer) or tok.alphabet is None else "cat 🙂"
        assert loaded.encode(text, allowed_special="all") == tok.encode(text, allowed_special="all")
        some_ids = range(min(300, tok.vocab_size))
        assert [loaded.token_str(i) for i in some_ids] == [tok.token_str(i) for i in some_ids]


def test_bpe_file_is_human_readable(tmp_path: Path) -> None:
    path = tmp_path / "bpe.json"
    BPE.save(path)
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["format"] == "genai_notes.tokenizer" and data["version"] == 1
    assert data["type"] == "bpe"
    assert data["special_tokens"] == ["<|endoftext|>", "<pad>", "<mask>"]
    first = BPE.history[0]
    assert data["merges"][0] == [bytes([first.pair[0]]).decode(), bytes([first.pair[1]]).decode()]
    assert len(data["merges"]) == len(BPE.merges)
    assert '\n    ["' in text  # one merge per line
    assert "\\\\xf0" in text  # a token holding part of an emoji is escaped readably
    assert BPETokenizer.load(path).merges == BPE.merges


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=12))
def test_readable_spelling_round_trips(data: bytes) -> None:
    assert readable_to_bytes(bytes_to_readable(data)) == data


def test_readable_spelling_by_hand() -> None:
    assert bytes_to_readable(b" the") == " the"
    assert bytes_to_readable("🙂".encode()[:3]) == "\\xf0\\x9f\\x99"
    assert bytes_to_readable(b"a\\xb") == "a\\\\xb"  # a literal backslash is doubled
    with pytest.raises(ValueError, match="a backslash must start"):
        readable_to_bytes("a\\q")


def _bpe_file(tmp_path: Path, **changes: object) -> Path:
    data = {
        "format": "genai_notes.tokenizer",
        "version": 1,
        "type": "bpe",
        "special_tokens": ["<pad>"],
        "merges": [["a", "b"], ["ab", "c"]],
    }
    data.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del data[key]
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_hand_written_file_loads(tmp_path: Path) -> None:
    tok = BPETokenizer.load(_bpe_file(tmp_path))
    assert tok.merges == [(97, 98), (256, 99)]
    assert tok.encode("abc<pad>", allowed_special="all") == [257, 258]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"merges": None}, "the key 'merges' is missing"),
        ({"merges": 5}, "'merges' should be a list, got int 5"),
        ({"merges": [["a", "b", "c"]]}, r"'merges'\[0\] should be a pair of two strings"),
        ({"merges": [["a", 7]]}, r"'merges'\[0\] should be a pair of two strings"),
        ({"merges": [["a", "b"], ["zz", "c"]]}, r"'merges'\[1\]: 'zz' is not a token known before"),
        ({"merges": [["a", "b"], ["a", "b"]]}, r"'merges'\[1\] makes the token 'ab'.*duplicate"),
        ({"merges": [["a", "bc"], ["b", "c"]]}, r"'merges'\[0\]: 'bc' is not a token known"),
        ({"merges": [["a\\q", "b"]]}, "a backslash must start"),
        ({"version": 2}, "unsupported 'version' 2; this code reads version 1"),
        ({"version": "1"}, "'version' should be an integer, got str"),
        ({"version": True}, "'version' should be an integer, got bool"),
        ({"format": "something"}, "'format' should be 'genai_notes.tokenizer'"),
        ({"type": "sentencepiece"}, "'type' should be bpe, got 'sentencepiece'"),
        ({"special_tokens": ["<pad>", "<pad>"]}, "'<pad>' appears more than once"),
        ({"special_tokens": "<pad>"}, "'special_tokens' should be a list"),
        ({"special_tokens": ["ab"]}, "'ab' collides with the ordinary token"),
        ({"special_tokens": [3]}, "special_tokens: expected strings, got 3 at position 0"),
    ],
)
def test_broken_bpe_files_name_the_problem(tmp_path: Path, changes: dict, message: str) -> None:
    path = _bpe_file(tmp_path, **changes)
    with pytest.raises(TokenizerFileError, match=message) as info:
        BPETokenizer.load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"format": "genai_notes.tokenizer", ', "not valid JSON .* at line 1"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"version": 1, "version": 1}', "the key 'version' appears more than once"),
        ('{"version": NaN}', "NaN is not allowed"),
    ],
)
def test_files_that_are_not_tokenizer_json(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TokenizerFileError, match=message):
        load_tokenizer(path)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"type": "\xe9"}')
    with pytest.raises(TokenizerFileError, match="not UTF-8 text"):
        load_tokenizer(path)


def test_loading_with_the_wrong_class(tmp_path: Path) -> None:
    path = tmp_path / "bpe.json"
    BPE.save(path)
    with pytest.raises(TokenizerFileError, match="'type' should be char, got 'bpe'"):
        CharTokenizer.load(path)


def test_broken_char_and_word_files(tmp_path: Path) -> None:
    head = {"format": "genai_notes.tokenizer", "version": 1, "special_tokens": ["<unk>"]}
    cases = [
        ({"type": "char", "alphabet": ["a", "bc"]}, r"'alphabet'\[1\] should be a single char"),
        ({"type": "char", "alphabet": ["a", "a"]}, "the character 'a' appears more than once"),
        ({"type": "char"}, "the key 'alphabet' is missing"),
        ({"type": "word", "unk_token": "<unk>", "words": ["a", "a"]}, "'a' appears more than"),
        ({"type": "word", "unk_token": "<unk>", "words": [1]}, "1 at position 0 is not a single"),
        ({"type": "word", "unk_token": "<?>", "words": ["a"]}, "'unk_token' '<\\?>' is not in"),
        ({"type": "word", "words": ["a"]}, "the key 'unk_token' is missing"),
    ]
    path = tmp_path / "edited.json"
    for fields, message in cases:
        path.write_text(json.dumps({**head, **fields}), encoding="utf-8")
        with pytest.raises(TokenizerFileError, match=message):
            load_tokenizer(path)


def test_lone_surrogates_in_an_alphabet_survive_saving(tmp_path: Path) -> None:
    tok = CharTokenizer("a\ud800", special_tokens=[])
    tok.save(tmp_path / "s.json")
    assert CharTokenizer.load(tmp_path / "s.json").alphabet == "a\ud800"


# --- Hostile files: refused with the module's own error before json or memory give out ---


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 100_000, "nest more than 32 levels deep"),
        ('{"a": ' + "{" * 40 + "}" * 40 + "}", "nest more than 32 levels deep"),
        ('{"format": "genai_notes.tokenizer", "version": ' + "9" * 5000 + "}", "5,000 digits"),
        ('{"version": -' + "1" * 25 + "}", "25 digits"),
    ],
    ids=["100k-brackets", "40-objects", "5000-digit-int", "negative-long-int"],
)
def test_hostile_json_is_refused_with_a_tokenizer_error(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(content)
    with pytest.raises(TokenizerFileError, match=message) as info:
        load_tokenizer(path)
    assert str(path) in str(info.value)


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path: Path) -> None:
    deep_looking = "[" * 50 + '\\"{' * 50
    tok = CharTokenizer("ab", special_tokens=[deep_looking])
    path = tmp_path / "tok.json"
    tok.save(path)
    assert list(load_tokenizer(path).special_tokens) == [deep_looking]


def _nesting(value: object) -> int:
    """The depth of a parsed JSON value, counted recursively (the independent route)."""
    if isinstance(value, list):
        return 1 + max((_nesting(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_nesting(v) for v in value.values()), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.integers(-5, 5) | st.text(alphabet='[]{}"\\ab', max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=30,
)


@given(json_values, st.integers(0, 8))
@settings(max_examples=300, deadline=None)
def test_depth_scan_agrees_with_parsing(value: object, limit: int) -> None:
    from genai_notes.tokenizers.jsonfile import _depth_exceeds

    text = json.dumps(value)
    assert _depth_exceeds(text, limit) == (_nesting(value) > limit)


def test_a_file_over_the_size_limit_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genai_notes.tokenizers import jsonfile

    path = tmp_path / "big.json"
    CharTokenizer("ab").save(path)
    monkeypatch.setattr(jsonfile, "MAX_FILE_BYTES", 10)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the file was read"))
    with pytest.raises(TokenizerFileError, match="at most 10"):
        load_tokenizer(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TokenizerFileError, match="no such file"):
        load_tokenizer(tmp_path / "absent.json")


@pytest.mark.parametrize("path", [None, 3, b"tok.json", ["tok.json"]])
def test_save_and_load_need_a_file_name(path: object) -> None:
    with pytest.raises(TypeError, match="path: expected a file name"):
        CharTokenizer("ab").save(path)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="path: expected a file name"):
        load_tokenizer(path)  # type: ignore[arg-type]
