"""Tokenizers: characters, words and byte-level BPE, behind one interface.

Every tokenizer has ``encode(text) -> list[int]``, ``decode(ids) -> str``, ``vocab_size``,
``special_tokens``, ``token_str(id)``, ``save(path)`` and ``load(path)``. The BPE tokenizer is
also trained, with a readable reference trainer or an incremental one that gives the same merges.

>>> from genai_notes.tokenizers import BPETokenizer, pair_counts, merge
>>> pair_counts([1, 2, 3, 1, 2])
{(1, 2): 2, (2, 3): 1, (3, 1): 1}
>>> merge([1, 2, 3, 1, 2], (1, 2), 4)
[4, 3, 4]
"""

from .base import DEFAULT_SPECIAL_TOKENS, Tokenizer, check_special_tokens, load_tokenizer
from .bpe import BPETokenizer, bytes_to_readable, readable_to_bytes
from .bpe_fast import train_fast
from .bpe_reference import MergeRecord, merge, pair_counts, train_reference
from .char import N_CODE_POINTS, CharTokenizer
from .jsonfile import FORMAT_NAME, FORMAT_VERSION, TokenizerFileError
from .pretokenize import GPT2_SPLIT_PATTERN, count_pieces, pretokenize, split_on_specials
from .word import WORD_PATTERN, WordTokenizer, split_words

__all__ = [
    "DEFAULT_SPECIAL_TOKENS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "GPT2_SPLIT_PATTERN",
    "N_CODE_POINTS",
    "WORD_PATTERN",
    "BPETokenizer",
    "CharTokenizer",
    "MergeRecord",
    "Tokenizer",
    "TokenizerFileError",
    "WordTokenizer",
    "bytes_to_readable",
    "check_special_tokens",
    "count_pieces",
    "load_tokenizer",
    "merge",
    "pair_counts",
    "pretokenize",
    "readable_to_bytes",
    "split_on_specials",
    "split_words",
    "train_fast",
    "train_reference",
]
