"""Fine-tuning tools (Chapter 11): LoRA adapters, and the pieces of instruction tuning.

**Freezing** is part of the engine, not of this module: a parameter with
``requires_grad=False`` gets no gradient and every optimiser skips it
(:meth:`genai_notes.nn.Module.freeze`, ``parameters(trainable_only=True)``).

**LoRA** (low-rank adaptation; Hu et al., 2022, bib key ``hu2022lora``). A layer
``y = x W + b`` with ``W`` ``(d_in, d_out)`` is frozen and learns only a rank-``r`` update::

    y = x W + b + (alpha / r) · x A B,     A: (d_in, r),  B: (r, d_out)

``A`` starts small and random, ``B`` at zero, so before training the layer computes exactly
what the base layer does. This book multiplies row vectors from the left (``x W``); Hu et
al. write ``W x`` and ``ΔW = B A`` with the shapes the other way round: the same update,
transposed. Training moves ``r (d_in + d_out)`` numbers instead of ``d_in d_out``; afterwards
``W + (alpha / r) A B`` is one ordinary matrix again (:func:`merge_lora`).

**The attention's projections are packed.** :class:`~genai_notes.nn.MultiHeadAttention`
keeps ``[W_q | W_k | W_v]`` in one ``in_proj`` Linear ``(d_model, 3 d_model)``. Hu et al.
adapt ``W_q`` and ``W_v`` with one pair ``(A, B)`` each; here LoRA wraps a whole Linear, so
``targets=("in_proj",)`` gives the packed matrix one update ``A B`` whose columns reach the
queries, keys and values together (for a square ``d_model`` that is ``4 r d_model``
numbers, the same count as two separate rank-``r`` updates of ``W_q`` and ``W_v``).

**Instruction tuning.** A chat-like template marks the turns with special tokens::

    <|user|> name the subject : the king rules . <|end|> <|assistant|> king <|end|>

and the loss covers only the response: its words and the closing ``<|end|>``
(:func:`response_loss_mask`), through the cross-entropy's ``ignore_index``.

>>> from genai_notes.nn import Linear
>>> lora = LoRALinear(Linear(8, 6, rng=0), r=2, rng=0)
>>> lora.num_parameters(trainable_only=True), lora_parameter_count(8, 6, 2)
(28, 28)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from genai_notes._checks import (
    check_array,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_rng,
    describe,
)
from genai_notes.autograd import Tensor, fused
from genai_notes.autograd import functional as F
from genai_notes.gpt import GPT
from genai_notes.nn import Linear, Module, Parameter
from genai_notes.tokenizers import Tokenizer, WordTokenizer

__all__ = [
    "USER",
    "ASSISTANT",
    "END",
    "CHAT_TOKENS",
    "IGNORE",
    "lora_parameter_count",
    "LoRALinear",
    "apply_lora",
    "merge_lora",
    "chat_tokenizer",
    "resize_vocabulary",
    "format_example",
    "encode_example",
    "response_loss_mask",
    "instruction_batch",
    "response_loss",
]

USER = "<|user|>"  # opens the user's turn (the instruction)
ASSISTANT = "<|assistant|>"  # opens the model's turn (the response)
END = "<|end|>"  # closes a turn; the model learns to emit it when its answer is done
CHAT_TOKENS = (USER, ASSISTANT, END)
IGNORE = -1  # the target of every position the loss skips (as in pretrained.sentence_batch)


def lora_parameter_count(d_in: int, d_out: int, r: int) -> int:
    """Trainable numbers of a rank-``r`` LoRA update of a ``(d_in, d_out)`` matrix:
    ``A`` has ``d_in r``, ``B`` has ``r d_out``, so ``r (d_in + d_out)``.

    >>> lora_parameter_count(64, 192, 4), 64 * 192     # against training W itself
    (1024, 12288)
    """
    d_in, d_out = check_positive_int(d_in, "d_in"), check_positive_int(d_out, "d_out")
    return check_positive_int(r, "r") * (d_in + d_out)


class LoRALinear(Module):
    """A frozen :class:`~genai_notes.nn.Linear` plus a trainable rank-``r`` update.

    ``forward(x) = x W + b + scale · (x A) B`` with ``scale = alpha / r`` (``alpha=None``:
    ``alpha = r``, scale 1). Hu et al. fix ``alpha`` once and keep it when they change
    ``r``. ``A`` ``(d_in, r)`` is drawn from ``N(0, 1/d_in)`` (seeded by ``rng``), ``B``
    ``(r, d_out)`` is zero. The base layer is frozen here. ``r`` must be at most
    ``min(d_in, d_out)``: a larger rank adds numbers but no new directions.

    Code that reads ``layer.weight`` instead of calling the layer (the attention's packed
    slices, the fused blocks) gets the effective weight ``W + scale · A B`` as a node of the
    graph, so gradients reach ``A`` and ``B`` on every path.

    >>> lora = LoRALinear(Linear(4, 3, rng=0), r=2, rng=1)
    >>> x = Tensor(np.ones((5, 4)))
    >>> bool((lora(x).data == lora.base(x).data).all())        # B = 0: unchanged
    True
    """

    def __init__(self, base: Linear, r: int, alpha: float | None = None, *, rng: Any) -> None:
        if not isinstance(base, Linear):
            raise TypeError(f"base: expected a genai_notes.nn.Linear, got {describe(base)}")
        d_in, d_out = base.weight.shape
        r = check_positive_int(r, "r")
        if r > min(d_in, d_out):
            raise ValueError(
                f"r: expected at most min(d_in, d_out) = {min(d_in, d_out)} for a "
                f"({d_in}, {d_out}) weight, got {r}"
            )
        alpha = float(r) if alpha is None else check_real(alpha, "alpha", low=0.0)
        rng = check_rng(rng, "rng")
        dtype = base.weight.dtype
        self.base = base.freeze()
        self.r, self.alpha, self.scale = r, alpha, alpha / r
        self.lora_a = Parameter(rng.normal(0.0, d_in**-0.5, (d_in, r)), dtype=dtype)
        self.lora_b = Parameter(np.zeros((r, d_out)), dtype=dtype)

    @property
    def weight(self) -> Tensor:
        """The effective weight ``W + scale · A B``, ``(d_in, d_out)``, built in the graph."""
        return self.base.weight + (self.lora_a @ self.lora_b) * self.scale

    @property
    def bias(self) -> Parameter | None:
        """The base layer's (frozen) bias ``(d_out,)``, or None."""
        return self.base.bias

    def forward(self, x: Tensor) -> Tensor:
        """x: ``(..., d_in)`` -> ``(..., d_out)``; the update goes through ``(..., r)``."""
        low_rank = F.linear(F.linear(x, self.lora_a), self.lora_b)  # (..., d_out)
        return F.linear(x, self.base.weight, self.base.bias) + low_rank * self.scale

    def delta(self) -> np.ndarray:
        """The update ``scale · A B`` as an array ``(d_in, d_out)`` (its rank is at most r)."""
        return self.scale * (self.lora_a.data @ self.lora_b.data)

    def merge(self) -> Linear:
        """A plain Linear with weight ``W + scale · A B`` and the base's bias (copies);
        its parameters are frozen or not as the base's were."""
        d_in, d_out = self.base.weight.shape
        merged = Linear(d_in, d_out, bias=self.base.bias is not None, rng=0)
        merged.weight = Parameter(self.base.weight.data + self.delta(), dtype=self.dtype)
        merged.weight.requires_grad = self.base.weight.requires_grad
        if self.base.bias is not None:
            merged.bias = Parameter(self.base.bias.data.copy(), dtype=self.dtype)
            merged.bias.requires_grad = self.base.bias.requires_grad
        return merged

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the weights (float32, or float64 after ``astype``)."""
        return self.base.weight.dtype


def _selector(targets: Any) -> Callable[[str], bool]:
    """``targets`` as a predicate on dotted module names."""
    if callable(targets):
        return targets
    if isinstance(targets, str):
        targets = (targets,)
    if not isinstance(targets, Sequence) or not all(isinstance(t, str) for t in targets):
        raise TypeError(
            f"targets: expected module names or a predicate on names, got {describe(targets)}"
        )
    packed = sorted({"q", "k", "v"} & set(targets))
    if packed:
        raise ValueError(
            f"targets: {packed} are not modules: the queries, keys and values share one "
            "packed Linear, 'in_proj' (see the module docstring); target 'in_proj'"
        )
    names = set(targets)
    return lambda name: name in names or name.rsplit(".", 1)[-1] in names


def _replace(model: Module, name: str, new: Module) -> None:
    """Put ``new`` where the sub-module called ``name`` is (an attribute or a list item)."""
    *path, last = name.split(".")
    parent: Any = model
    for part in path:
        parent = parent[int(part)] if isinstance(parent, list | tuple) else getattr(parent, part)
    if isinstance(parent, tuple):
        raise TypeError(f"targets: {name!r} sits in a tuple, which cannot be changed in place")
    if isinstance(parent, list):
        parent[int(last)] = new
    else:
        setattr(parent, last, new)


def apply_lora(
    model: Module,
    targets: Sequence[str] | Callable[[str], bool] = ("in_proj",),
    r: int = 4,
    alpha: float | None = None,
    *,
    rng: Any = 0,
) -> dict[str, LoRALinear]:
    """Freeze ``model`` and wrap the chosen Linear layers in :class:`LoRALinear`, in place.

    targets: names (a module matches if its dotted name, or the last part of it, is one of
    them: ``"in_proj"``, ``"out_proj"``, ``"fc_in"``, ``"fc_out"``, ``"lm_head"``,
    ``"blocks.1.attn.in_proj"``), or a predicate on dotted names. Every chosen module must
    be a Linear. Nothing changes unless all checks pass. Returns the new layers by name;
    only their ``A`` and ``B`` are trainable.

    >>> from genai_notes.gpt import GPTConfig
    >>> gpt = GPT(GPTConfig(vocab_size=11, block_size=8, n_layers=2, n_heads=2, d_model=8))
    >>> list(apply_lora(gpt, r=2))
    ['blocks.0.attn.in_proj', 'blocks.1.attn.in_proj']
    >>> gpt.num_parameters(trainable_only=True) == 2 * lora_parameter_count(8, 24, 2)
    True
    """
    if not isinstance(model, Module):
        raise TypeError(f"model: expected a genai_notes.nn.Module, got {describe(model)}")
    select = _selector(targets)
    r = check_positive_int(r, "r")
    modules = list(model.named_modules())
    inside_lora = [name + "." for name, m in modules if isinstance(m, LoRALinear)]
    chosen = [
        (name, m)
        for name, m in modules
        if name and select(name) and not any(name.startswith(p) for p in inside_lora)
    ]
    if not chosen:
        linears = sorted({n.rsplit(".", 1)[-1] for n, m in modules if isinstance(m, Linear)})
        raise ValueError(
            f"targets: no module of the {type(model).__name__} matches {describe(targets)}; "
            f"its Linear layers are called {linears}"
        )
    seen: set[int] = set()
    for name, m in chosen:
        if isinstance(m, LoRALinear):
            raise ValueError(f"targets: {name!r} already has LoRA; merge_lora(model) first")
        if not isinstance(m, Linear):
            raise TypeError(f"targets: {name!r} is a {type(m).__name__}, not a Linear")
        if id(m) in seen:
            raise ValueError(f"targets: {name!r} is a Linear shared with another chosen name")
        seen.add(id(m))
        if r > min(m.weight.shape):
            raise ValueError(
                f"r: expected at most {min(m.weight.shape)} for {name!r} of shape "
                f"{m.weight.shape}, got {r}"
            )
    if alpha is not None:
        check_real(alpha, "alpha", low=0.0)
    rng = check_rng(rng, "rng")
    model.freeze()
    adapters = {}
    for name, m in chosen:
        adapters[name] = LoRALinear(m, r, alpha, rng=rng)
        _replace(model, name, adapters[name])
    return adapters


def merge_lora(model: Module) -> list[str]:
    """Replace every :class:`LoRALinear` in ``model`` by its merged Linear
    (:meth:`LoRALinear.merge`), in place; return their names.

    >>> layer = Linear(4, 4, rng=0)
    >>> class Net(Module):
    ...     def __init__(self): self.proj = LoRALinear(layer, r=1, rng=0)
    >>> net = Net(); merge_lora(net), type(net.proj).__name__
    (['proj'], 'Linear')
    """
    if not isinstance(model, Module):
        raise TypeError(f"model: expected a genai_notes.nn.Module, got {describe(model)}")
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, LoRALinear)]
    if any(name == "" for name, _ in found):
        raise TypeError("model: is itself a LoRALinear; call model.merge() instead")
    for name, m in found:
        _replace(model, name, m.merge())
    return [name for name, _ in found]


def chat_tokenizer(base: WordTokenizer, extra_words: Sequence[str] = ()) -> WordTokenizer:
    """``base`` with ``extra_words`` after its words and :data:`CHAT_TOKENS` after its
    special tokens (its unknown-word token stays last). The ids of ``base``'s words are
    unchanged; :func:`resize_vocabulary` maps the rest of a model's rows by spelling.

    >>> from genai_notes.pretrained import make_tokenizer
    >>> tok = chat_tokenizer(make_tokenizer(), ["rey"])
    >>> tok.vocab_size, tok.special_tokens[END]
    (139, 137)
    """
    if not isinstance(base, WordTokenizer):
        raise TypeError(f"base: expected a WordTokenizer, got {describe(base)}")
    if isinstance(extra_words, str) or not isinstance(extra_words, Sequence):
        raise TypeError(f"extra_words: expected a list of words, got {describe(extra_words)}")
    new = [w for w in dict.fromkeys(extra_words) if w not in set(base.words)]
    specials = [t for t in base.special_tokens if t != base.unk_token]
    specials += [t for t in CHAT_TOKENS if t not in specials]
    return WordTokenizer([*base.words, *new], specials, unk_token=base.unk_token)


def resize_vocabulary(model: GPT, old: Tokenizer, new: Tokenizer, *, rng: Any) -> GPT:
    """Give ``model`` one embedding row (and LM-head column) per token of ``new``, in place.

    A token that ``old`` also has (same spelling) keeps its trained row; the others start
    from ``N(0, 0.02²)``, the GPT's own initialisation. ``model.config.vocab_size`` becomes
    ``new.vocab_size``. The new parameters are trainable. Returns ``model``.

    >>> from genai_notes.gpt import GPTConfig
    >>> from genai_notes.pretrained import make_tokenizer
    >>> old = make_tokenizer()
    >>> gpt = GPT(GPTConfig(vocab_size=old.vocab_size, block_size=8, n_layers=1, n_heads=1,
    ...                     d_model=4))
    >>> resize_vocabulary(gpt, old, chat_tokenizer(old), rng=0).wte.weight.shape
    (138, 4)
    """
    if not isinstance(model, GPT):
        raise TypeError(f"model: expected a genai_notes.gpt.GPT, got {describe(model)}")
    for name, tok in (("old", old), ("new", new)):
        if not isinstance(tok, Tokenizer):
            raise TypeError(f"{name}: expected a Tokenizer, got {describe(tok)}")
    if old.vocab_size != model.config.vocab_size:
        raise ValueError(
            f"old: has {old.vocab_size} tokens, but the model was built for "
            f"vocab_size={model.config.vocab_size}"
        )
    rng = check_rng(rng, "rng")
    old_id = {old.token_str(i): i for i in range(old.vocab_size)}
    rows = np.array([old_id.get(new.token_str(j), -1) for j in range(new.vocab_size)])
    kept = rows >= 0  # (new_vocab,) True where the token has a trained row
    table = model.wte.weight.data  # (old_vocab, d_model)
    fresh = rng.normal(0.0, 0.02, (new.vocab_size, table.shape[1])).astype(table.dtype)
    fresh[kept] = table[rows[kept]]
    model.wte.weight = Parameter(fresh, dtype=table.dtype)
    if model.lm_head is not None:
        head = model.lm_head.weight.data  # (d_model, old_vocab)
        cols = rng.normal(0.0, 0.02, (head.shape[0], new.vocab_size)).astype(head.dtype)
        cols[:, kept] = head[:, rows[kept]]
        model.lm_head.weight = Parameter(cols, dtype=head.dtype)
    model.config = dataclasses.replace(model.config, vocab_size=new.vocab_size)
    return model


def format_example(instruction: str, response: str | None = None) -> str:
    """The chat template as text: the user's turn, then the assistant's.

    ``response=None`` gives the prompt, which ends with the assistant marker: what a
    model is fed so that it writes the response. Encode the text with
    ``allowed_special=CHAT_TOKENS`` (or use :func:`encode_example`).

    >>> format_example("name the subject : the king rules .", "king")
    '<|user|> name the subject : the king rules . <|end|> <|assistant|> king <|end|>'
    >>> format_example("is the subject royal : the girl sleeps .")
    '<|user|> is the subject royal : the girl sleeps . <|end|> <|assistant|>'
    """
    if not isinstance(instruction, str):
        raise TypeError(f"instruction: expected a string, got {describe(instruction)}")
    prompt = f"{USER} {instruction} {END} {ASSISTANT}"
    if response is None:
        return prompt
    if not isinstance(response, str):
        raise TypeError(f"response: expected a string or None, got {describe(response)}")
    return f"{prompt} {response} {END}"


def _chat_ids(tok: Tokenizer) -> tuple[int, int, int]:
    specials = tok.special_tokens
    missing = [t for t in CHAT_TOKENS if t not in specials]
    if missing:
        raise ValueError(f"tok: has no special tokens {missing}; build it with chat_tokenizer")
    return specials[USER], specials[ASSISTANT], specials[END]


def encode_example(tok: Tokenizer, instruction: str, response: str | None = None) -> list[int]:
    """The ids of :func:`format_example`'s text. The markers are added as ids and the two
    texts are encoded as plain text, so a marker typed inside them raises ValueError
    instead of opening a turn.

    >>> from genai_notes.pretrained import make_tokenizer
    >>> tok = chat_tokenizer(make_tokenizer())
    >>> encode_example(tok, "the king rules .", "king")[-3:]
    [135, 64, 136]
    """
    user, assistant, end = _chat_ids(tok)
    ids = [user, *tok.encode(instruction), end, assistant]
    if response is not None:
        ids += [*tok.encode(response), end]
    return ids


def response_loss_mask(ids: Any, assistant_id: int, end_id: int) -> np.ndarray:
    """True on the tokens a response is made of: every token after an ``assistant_id``
    marker up to and including the ``end_id`` that closes it. False elsewhere (the
    user's turns, the markers that open turns, padding). ids: ``(seq,)`` or
    ``(batch, seq)``; the mask has the same shape.

    >>> response_loss_mask([0, 5, 6, 2, 1, 7, 8, 2, 2], assistant_id=1, end_id=2).astype(int)
    array([0, 0, 0, 0, 0, 1, 1, 1, 0])
    """
    ids = check_array(ids, "ids", dtype_kind="iu")
    if ids.ndim not in (1, 2):
        raise ValueError(f"ids: expected shape (seq,) or (batch, seq), got {ids.shape}")
    assistant_id = check_nonnegative_int(assistant_id, "assistant_id")
    end_id = check_nonnegative_int(end_id, "end_id")
    if assistant_id == end_id:
        raise ValueError(f"end_id: must differ from assistant_id, both are {end_id}")
    pos = np.broadcast_to(np.arange(ids.shape[-1]), ids.shape)  # (..., seq)
    # The latest marker at or before each position, -1 if none yet.
    last_open = np.maximum.accumulate(np.where(ids == assistant_id, pos, -1), axis=-1)
    last_end = np.maximum.accumulate(np.where(ids == end_id, pos, -1), axis=-1)
    end_before = np.concatenate(  # the latest end strictly before each position
        [np.full(ids.shape[:-1] + (1,), -1), last_end[..., :-1]], axis=-1
    )
    return (last_open >= 0) & (last_open < pos) & (last_open > end_before)


def instruction_batch(
    pairs: Sequence[tuple[str, str]], tok: Tokenizer, start: str | None = "<|endoftext|>"
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets ``(n, longest - 1)`` for next-token training on
    ``(instruction, response)`` pairs: each row is ``start`` (if given) followed by
    :func:`encode_example`; targets are the rows shifted by one, with :data:`IGNORE`
    wherever the predicted token is not part of the response. Short rows are padded
    with ``END`` (inputs) and :data:`IGNORE` (targets).

    >>> from genai_notes.pretrained import make_tokenizer
    >>> tok = chat_tokenizer(make_tokenizer())
    >>> x, y = instruction_batch([("the king rules .", "king")], tok)
    >>> x.shape, y[0].tolist()[-3:]
    ((1, 9), [-1, 64, 136])
    """
    if isinstance(pairs, str) or not isinstance(pairs, Sequence) or not pairs:
        raise TypeError(
            f"pairs: expected a non-empty list of (instruction, response), got {describe(pairs)}"
        )
    _, assistant, end = _chat_ids(tok)
    first = [] if start is None else [tok.special_tokens[start]]
    rows = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise TypeError(f"pairs: item {i} is not an (instruction, response) pair")
        rows.append(first + encode_example(tok, pair[0], pair[1]))
    width = max(len(row) for row in rows)
    ids = np.full((len(rows), width), end, dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    lengths = np.array([len(row) for row in rows])
    real = np.arange(width) < lengths[:, None]  # (n, width) False on padding
    mask = response_loss_mask(ids, assistant, end) & real
    return ids[:, :-1], np.where(mask[:, 1:], ids[:, 1:], IGNORE)


def response_loss(model: GPT, inputs: Any, targets: Any) -> Tensor:
    """Mean cross-entropy over the targets that are not :data:`IGNORE` (the response
    tokens of :func:`instruction_batch`), with the fused node if the model is fused.
    Fits ``train(..., loss_fn=response_loss)``."""
    if not isinstance(model, GPT):
        raise TypeError(f"model: expected a genai_notes.gpt.GPT, got {describe(model)}")
    cross_entropy = fused.cross_entropy if model.config.fused else F.cross_entropy
    return cross_entropy(model(inputs), targets, ignore_index=IGNORE)
