"""Chapter 11's transfer measurements: one run of the stored LoRA study measured again, the
trainable counts against the layers' shapes, LoRA leaving the pretrained weights alone,
forgetting measured where it says, and the study's loader refusing files that are not it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_notes import transfer as T
from genai_notes.bert import bert_tokenizer, encode_sentences
from genai_notes.bert_pretraining import load_bert, load_metadata, mlm_validation_loss
from genai_notes.finetuning import LoRALinear, apply_lora, lora_parameter_count
from genai_notes.nn.checkpoint import CheckpointError

D_MODEL, N_CLASSES = 64, 2
HEAD = D_MODEL * N_CLASSES + N_CLASSES  # the new classification head: weight and bias
SHORT = {"n_train": 16, "steps": 3, "batch_size": 8}  # a run that only has to run


@pytest.fixture(scope="module")
def study():
    return T.load_study()


@pytest.fixture(scope="module")
def checkpoint() -> dict[str, np.ndarray]:
    """Chapter 10's pretrained weights, read straight from the shipped checkpoint."""
    model, _ = load_bert("bidirectional")
    return model.state_dict()


@pytest.fixture
def built(monkeypatch):
    """Every classifier fine_tune builds, kept so a test can look inside it afterwards."""
    T.pretrained_mlm_loss()  # cached first, so that its own model is not recorded
    real, models = T.build_classifier, []

    def keep(init: str, seed: int):
        models.append(real(init, seed))
        return models[-1]

    monkeypatch.setattr(T, "build_classifier", keep)
    return models


# -- the stored study, measured again ----------------------------------------------------


def test_one_stored_run_is_measured_again(study):
    setup = study["setup"]
    assert setup == {k: getattr(T.Run(), k) for k in setup}  # lora_study's default base
    label, rank, seed = "attention in_proj", study["ranks"][0], study["seeds"][0]
    run = T.Run(**setup, seed=seed, lora_targets=T.TARGET_SETS[label], lora_rank=rank)
    result = T.fine_tune(run, drift_every=setup["steps"])  # as lora_study measures it
    stored = study["lora"][label]
    assert abs(result.accuracy - stored["accuracy"][0][0]) < 1e-9
    assert abs(result.drift[-1] - stored["drift"][0][0]) < 1e-6
    assert result.drift_steps == (setup["steps"],)
    assert result.trainable == stored["trainable"][0]


def test_the_stored_pretrained_loss_is_measured_again(study):
    assert abs(study["pretrained_mlm_loss"] - T.pretrained_mlm_loss()) < 1e-9
    assert study["command"] == T.COMMAND == "python -m genai_notes.transfer study"


# -- trainable counts ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def layer_shapes(checkpoint) -> dict[str, tuple[int, int]]:
    """The (d_in, d_out) of each Linear inside a block, read from the checkpoint."""
    n_layers = load_metadata()["config"]["n_layers"]
    shapes = {}
    for name, array in checkpoint.items():
        if name.startswith("blocks.") and name.endswith(".weight") and array.ndim == 2:
            layer = name.split(".")[-2]
            assert shapes.setdefault(layer, array.shape) == array.shape  # every block alike
    assert (
        len({name.split(".")[1] for name in checkpoint if name.startswith("blocks.")}) == n_layers
    )
    d = D_MODEL  # the packed q|k|v, the attention's output, the feed-forward net (4 d wide)
    assert shapes == {"in_proj": (d, 3 * d), "out_proj": (d, d), "fc_in": (d, 4 * d),
                      "fc_out": (4 * d, d)}  # fmt: skip
    return shapes


def lora_trainable(shapes: dict[str, tuple[int, int]], targets: tuple[str, ...], r: int) -> int:
    n_layers = load_metadata()["config"]["n_layers"]
    return n_layers * sum(lora_parameter_count(*shapes[t], r) for t in targets) + HEAD


def test_lora_counts_by_hand(layer_shapes):
    assert lora_trainable(layer_shapes, ("in_proj",), 1) == 4 * (64 + 192) + 130 == 1154
    every = T.TARGET_SETS["every Linear"]
    assert lora_trainable(layer_shapes, every, 1) == 4 * (256 + 128 + 320 + 320) + 130


@pytest.mark.parametrize(("label", "rank"), [("attention in_proj", 5), ("every Linear", 3)])
def test_a_lora_run_trains_its_adapters_and_the_head(layer_shapes, label, rank):
    targets = T.TARGET_SETS[label]
    result = T.fine_tune(T.Run(**SHORT, lora_targets=targets, lora_rank=rank))
    assert result.trainable == lora_trainable(layer_shapes, targets, rank)


def test_full_fine_tuning_trains_every_weight(study):
    result = T.fine_tune(T.Run(**SHORT))
    model = T.build_classifier("pretrained", 0)
    assert result.trainable == model.num_parameters() == study["full"]["trainable"]
    d, vocab, seq, n_layers = D_MODEL, 76, 12, 4  # Chapter 10's BERT
    block = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d)
    by_hand = vocab * d + seq * d + n_layers * block + 2 * d + vocab + HEAD  # ln_f, MLM bias
    assert model.num_parameters() == by_hand == 205_902


def test_the_stored_trainable_counts_follow_the_shapes(study, layer_shapes):
    for label, entry in study["lora"].items():
        expected = [lora_trainable(layer_shapes, T.TARGET_SETS[label], r) for r in study["ranks"]]
        assert entry["trainable"] == expected, label


# -- LoRA leaves the pretrained model alone ----------------------------------------------


def test_lora_moves_only_the_adapters_and_the_head(built, checkpoint):
    run = T.Run(**SHORT, lora_targets=T.TARGET_SETS["every Linear"], lora_rank=2, lr=1e-2)
    T.fine_tune(run)
    (model,) = built
    fresh_head = T.build_classifier("pretrained", run.seed).cls_head.weight.data
    assert not np.array_equal(model.cls_head.weight.data, fresh_head)  # the head trained
    n_frozen = 0
    for name, p in model.named_parameters():
        if "lora_" in name or name.startswith("cls_head."):
            assert p.requires_grad, name
            continue
        assert not p.requires_grad, name
        # float32 to float64 is exact, so "untouched" means equal bit for bit
        np.testing.assert_array_equal(p.data, checkpoint[name.replace(".base.", ".")], name)
        n_frozen += 1
    assert n_frozen == len(checkpoint) - 2  # every weight but the head's two
    adapters = [m for m in model.modules() if isinstance(m, LoRALinear)]
    assert len(adapters) == 16 and all(a.lora_b.data.any() for a in adapters)


def test_lora_changes_nothing_before_training():
    plain, wrapped = T.build_classifier("pretrained", 3), T.build_classifier("pretrained", 3)
    apply_lora(wrapped, T.TARGET_SETS["every Linear"], r=4, rng=0)
    ids = encode_sentences(bert_tokenizer(), T.test_task().sentences[:50], T.SEQ)  # (50, 12)
    np.testing.assert_allclose(wrapped.classify(ids).data, plain.classify(ids).data, atol=1e-12)
    np.testing.assert_allclose(wrapped.mlm_logits(ids).data, plain.mlm_logits(ids).data,
                               atol=1e-12)  # fmt: skip
    assert (wrapped.classify(ids).data != 0).all()


# -- forgetting ------------------------------------------------------------------------


def test_drift_is_measured_every_k_steps_and_at_the_end(built):
    run = T.Run(n_train=16, steps=5, batch_size=8, lr=1e-2)
    result = T.fine_tune(run, drift_every=2)
    assert result.drift_steps == (2, 4, 5) and len(result.drift) == 3
    (model,) = built
    final = mlm_validation_loss(model, T.DRIFT_RECIPE) - T.pretrained_mlm_loss()
    assert abs(result.drift[-1] - final) < 1e-12
    assert result.drift[-1] > 0  # full fine-tuning at this rate does forget a little
    assert T.fine_tune(T.Run(**{**SHORT, "steps": 4}), drift_every=2).drift_steps == (2, 4)


def test_training_in_chunks_changes_nothing(built):
    run = T.Run(n_train=16, steps=5, batch_size=8, lr=1e-2)
    in_chunks, at_once = T.fine_tune(run, drift_every=2), T.fine_tune(run)
    assert in_chunks.accuracy == at_once.accuracy and at_once.drift == ()
    for (name, p), (_, q) in zip(built[0].named_parameters(), built[1].named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, name)


def test_the_head_does_not_touch_the_mlm_loss():
    """So forgetting starts at 0: any seed's classifier has the pretrained MLM loss."""
    model = T.build_classifier("pretrained", 7)
    assert mlm_validation_loss(model, T.DRIFT_RECIPE) == T.pretrained_mlm_loss()
    assert 0.3 < T.pretrained_mlm_loss() < 0.7  # Chapter 10's model, not a random one
    scratch = T.build_classifier("scratch", 7)
    assert mlm_validation_loss(scratch, T.DRIFT_RECIPE) > 3.0  # about log(76) = 4.3


def test_a_model_from_scratch_has_nothing_to_forget():
    with pytest.raises(ValueError, match="drift_every: a model trained from scratch"):
        T.fine_tune(T.Run(**SHORT, init="scratch"), drift_every=1)
    assert T.fine_tune(T.Run(**SHORT, init="scratch")).drift == ()


# -- bad input -------------------------------------------------------------------------------

IN_PROJ = ("in_proj",)


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"init": "bert"}, ValueError, "init: expected 'pretrained' or 'scratch'"),
        ({"lora_rank": 2}, ValueError, "lora_rank, lora_targets: give both"),
        ({"lora_targets": IN_PROJ}, ValueError, "lora_rank, lora_targets: give both"),
        ({"lora_targets": IN_PROJ, "lora_rank": 1, "init": "scratch"}, ValueError, "init: LoRA"),
        ({"lora_targets": ["in_proj"], "lora_rank": 1}, TypeError, "lora_targets: expected"),
        ({"lora_targets": IN_PROJ, "lora_rank": 65}, ValueError, "lora_rank: expected"),
        ({"lora_targets": IN_PROJ, "lora_rank": True}, TypeError, "lora_rank: expected"),
        ({"lora_targets": IN_PROJ, "lora_rank": 1.0}, TypeError, "lora_rank: expected"),
        ({"lora_targets": ("cls_head",), "lora_rank": 1}, ValueError, "lora_targets: expected"),
        ({"steps": 0}, ValueError, "steps: expected a positive integer"),
        ({"steps": -3}, ValueError, "steps: expected a positive integer"),
        ({"steps": 2.0}, TypeError, "steps: expected a positive integer"),
        ({"n_train": 100_001}, ValueError, "n_train: expected at most 100000"),
        ({"batch_size": 4_097}, ValueError, "batch_size: expected at most 4096"),
        ({"seed": True}, TypeError, "seed: expected an int >= 0"),
        ({"seed": "0"}, TypeError, "seed: expected an int >= 0"),
        ({"seed": -1}, ValueError, "seed: expected an int >= 0, got -1"),
        ({"lr": 0.0}, ValueError, "lr"),
    ],
)
def test_run_refuses_bad_settings(changes, error, match):
    with pytest.raises(error, match=match):
        T.Run(**changes)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: T.fine_tune({"steps": 1}), TypeError, "run: expected a Run"),
        (lambda: T.fine_tune(T.Run(**SHORT), drift_every=-1), ValueError, "drift_every"),
        (lambda: T.fine_tune(T.Run(**SHORT), drift_every=True), TypeError, "drift_every"),
        (lambda: T.build_classifier("random", 0), ValueError, "init: expected"),
    ],
)
def test_fine_tune_refuses_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


@settings(max_examples=40, deadline=None)
@given(st.integers(-3, 100_003))
def test_steps_must_be_from_1_to_the_limit(steps):
    if 1 <= steps <= 100_000:
        assert T.Run(steps=steps).steps == steps
    else:
        with pytest.raises(ValueError, match="steps: expected"):
            T.Run(steps=steps)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 70), st.sampled_from([(), *T.TARGET_SETS.values(), ("fc_in",)]))
def test_a_rank_comes_with_targets_and_stays_at_most_d_model(rank, targets):
    if (rank == 0) == (targets == ()) and rank <= D_MODEL:
        assert T.Run(lora_rank=rank, lora_targets=targets).lora_rank == rank
    else:
        with pytest.raises(ValueError, match="lora_rank"):
            T.Run(lora_rank=rank, lora_targets=targets)


# -- the study's file ----------------------------------------------------------------


def _write(folder: Path, study: dict, change=None) -> Path:
    data = json.loads(json.dumps(study))  # a deep copy
    if change is not None:
        change(data)
    path = folder / "study.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _set(*keys_and_value):
    *keys, last, value = keys_and_value

    def change(data):
        for key in keys:
            data = data[key]
        data[last] = value

    return change


LABEL = "attention in_proj"


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (_set("format", "genai_notes.other"), "expected format 'genai_notes.lora_study'"),
        (_set("version", 2), "expected format .* version 1"),
        (lambda d: d.pop("seeds"), r"keys \[.*\], expected \[.*'seeds'"),
        (_set("extra", 1), r"keys \[.*'extra'"),
        (_set("setup", "steps", 0), "setup: steps: expected a positive integer"),
        (_set("ranks", [1, 2, 2, 8, 16]), "'ranks' must increase"),
        (_set("ranks", [2, 1, 4, 8, 16]), "'ranks' must increase"),
        (_set("ranks", [0, 2, 4, 8, 16]), "'ranks' must increase, from 1"),
        (_set("ranks", []), "'ranks' must be a list of 1 to 64 ints"),
        (_set("seeds", [0, True, 2]), "seeds: expected ints of shape"),
        (_set("ranks", [1, 1.5, 4, 8, 16]), "ranks: expected ints of shape"),
        (_set("lora", LABEL, "trainable", 1, 2178.5), "trainable: expected ints of shape"),
        (_set("pretrained_mlm_loss", "0.5"), "pretrained_mlm_loss: expected numbers"),
        (_set("pretrained_mlm_loss", -0.1), "pretrained_mlm_loss: expected finite values"),
        (lambda d: d["lora"].pop("every Linear"), "'lora' must have the target sets"),
        (_set("lora", LABEL, "targets", ["fc_in"]), r"lora\['attention in_proj'\]: targets"),
        (lambda d: d["lora"][LABEL].pop("drift"), r"attention in_proj'\]: expected targets"),
        (
            lambda d: d["lora"][LABEL]["accuracy"].pop(),
            r"accuracy: expected numbers of shape \(5, 3",
        ),
        (
            _set("lora", LABEL, "accuracy", 0, 1, 1.25),
            r"accuracy: expected finite values in \[0.0, 1",
        ),
        (_set("lora", LABEL, "trainable", 2, True), "trainable: expected ints of shape"),
        (_set("lora", LABEL, "drift", 0, 0, 99.0), "drift: expected finite values"),
        (_set("full", "accuracy", [1.0, 1.0, 1.5]), "full accuracy: expected finite values"),
        (_set("full", "drift", [0.1, 0.2]), r"full drift: expected numbers of shape \(3,\)"),
        (_set("full", "trainable", 0), "full trainable: expected finite values"),
    ],
)
def test_load_study_refuses_a_corrupted_copy(tmp_path, study, change, match):
    with pytest.raises(CheckpointError, match=match):
        T.load_study(_write(tmp_path, study, change))


def test_load_study_refuses_nan_and_what_is_not_a_study(tmp_path, study):
    path = _write(tmp_path, study)
    text = path.read_text(encoding="utf-8")
    stored = json.dumps(study["full"]["drift"][0])
    path.write_text(text.replace(stored, "NaN", 1), encoding="utf-8")
    with pytest.raises(CheckpointError, match="study.json: NaN is not allowed"):
        T.load_study(path)
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(CheckpointError, match="study.json: expected a JSON object, got list"):
        T.load_study(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(CheckpointError, match="study.json: not valid JSON"):
        T.load_study(path)
    with pytest.raises(CheckpointError, match="missing.json: no such file"):
        T.load_study(tmp_path / "missing.json")


def test_save_study_round_trips_and_checks_first(tmp_path, study):
    path = tmp_path / "again.json"
    T.save_study(study, path)
    assert T.load_study(path) == study
    assert path.read_text(encoding="utf-8") == T.STUDY_FILE.read_text(encoding="utf-8")
    broken = json.loads(json.dumps(study))
    broken["lora"][LABEL]["drift"][1][2] = float("nan")
    with pytest.raises(CheckpointError, match=r"lora\['attention in_proj'\]: drift: expected fin"):
        T.save_study(broken, tmp_path / "broken.json")
    assert not (tmp_path / "broken.json").exists()


def test_the_command_writes_the_study(tmp_path, monkeypatch, study, capsys):
    monkeypatch.setattr(T, "lora_study", lambda progress: study)  # the runs are tested above
    assert T.main(["study", "--out", str(tmp_path / "out.json")]) == 0
    assert T.load_study(tmp_path / "out.json") == study
    assert "5 ranks x 2 target sets x 3 seeds" in capsys.readouterr().out
