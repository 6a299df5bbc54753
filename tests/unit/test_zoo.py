"""genlib.zoo: save -> load round trip, and clear errors for missing, corrupt and swapped weights."""
import json

import pytest
import torch

import genlib
from genlib import zoo


class Tiny(torch.nn.Module):
    def __init__(self, width=3):
        super().__init__()
        self.lin = torch.nn.Linear(2, width)


def build(config):
    """This test module stands in for a model family module: build(config) -> nn.Module."""
    return Tiny(**config)


CARD = {"family": "tiny", "config": {"width": 3}, "dataset": {"id": "mnist", "description": "none"},
        "licence": "n/a", "command": "pytest", "seed": 0, "steps": 1, "wall_time_s": 0.0}


@pytest.fixture
def tiny_family(monkeypatch):
    monkeypatch.setitem(zoo.FAMILIES, "tiny", __name__)


def test_round_trip_keeps_weights_and_writes_a_card(tmp_path, tiny_family):
    model = Tiny()
    info = genlib.save(model, "tiny", CARD, weights_dir=tmp_path)
    assert info["sha256"] == zoo.sha256_of(tmp_path / "tiny.safetensors")
    assert info["parameters"] == 9
    loaded = genlib.load("tiny", weights_dir=tmp_path)
    assert torch.equal(loaded.lin.weight, model.lin.weight)
    assert not loaded.training and not loaded.lin.weight.requires_grad
    assert [c["name"] for c in genlib.available(tmp_path)] == ["tiny"]


def test_fp16_storage_loads_as_float32(tmp_path, tiny_family):
    model = Tiny()
    genlib.save(model, "tiny", CARD, weights_dir=tmp_path, fp16=True)
    loaded = genlib.load("tiny", weights_dir=tmp_path)
    assert loaded.lin.weight.dtype == torch.float32
    assert torch.allclose(loaded.lin.weight, model.lin.weight, atol=1e-3)


def test_missing_weights_name_the_training_command(tmp_path):
    with pytest.raises(genlib.WeightsError, match=r"python -m genlib.train vae --name vae-mnist"):
        genlib.load("vae-mnist", weights_dir=tmp_path)


def test_corrupt_file_is_refused_by_checksum(tmp_path, tiny_family):
    genlib.save(Tiny(), "tiny", CARD, weights_dir=tmp_path)
    path = tmp_path / "tiny.safetensors"
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(genlib.WeightsError, match="corrupt, truncated or was swapped"):
        genlib.load("tiny", weights_dir=tmp_path)


def test_truncated_file_is_refused(tmp_path, tiny_family):
    genlib.save(Tiny(), "tiny", CARD, weights_dir=tmp_path)
    path = tmp_path / "tiny.safetensors"
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(genlib.WeightsError, match="does not match its model card"):
        genlib.load("tiny", weights_dir=tmp_path)


def test_garbage_with_matching_checksum_is_not_unpickled(tmp_path, tiny_family):
    """Even if someone also edits the card's sha256, a non-safetensors file is refused, never unpickled."""
    genlib.save(Tiny(), "tiny", CARD, weights_dir=tmp_path)
    path = tmp_path / "tiny.safetensors"
    path.write_bytes(b"\x80\x04not a safetensors file")
    card_path = tmp_path / "tiny.json"
    card = json.loads(card_path.read_text())
    card["sha256"] = zoo.sha256_of(path)
    card_path.write_text(json.dumps(card))
    with pytest.raises(genlib.WeightsError, match="not a valid safetensors file"):
        genlib.load("tiny", weights_dir=tmp_path)


def test_weights_that_do_not_fit_the_architecture(tmp_path, tiny_family):
    genlib.save(Tiny(width=3), "tiny", CARD, weights_dir=tmp_path)
    card_path = tmp_path / "tiny.json"
    card = json.loads(card_path.read_text())
    card["config"] = {"width": 5}
    card_path.write_text(json.dumps(card))
    with pytest.raises(genlib.WeightsError, match="do not fit the architecture"):
        genlib.load("tiny", weights_dir=tmp_path)


def test_unreadable_card(tmp_path):
    (tmp_path / "tiny.json").write_text("{not json")
    with pytest.raises(genlib.WeightsError, match="not valid JSON"):
        genlib.load("tiny", weights_dir=tmp_path)
    assert genlib.available(tmp_path) == []


def test_update_card_merges_metrics(tmp_path, tiny_family):
    measured = {"measured_with": "pytest", "eval_set": "two images", "eval_images": 2, "a": 1}
    genlib.save(Tiny(), "tiny", {**CARD, "metrics": measured}, weights_dir=tmp_path)
    zoo.update_card("tiny", weights_dir=tmp_path, metrics={"b": 2})
    assert genlib.card("tiny", tmp_path)["metrics"] == {**measured, "b": 2}
    genlib.load("tiny", weights_dir=tmp_path)  # the weights' checksum is unaffected


def test_a_model_saved_without_metrics_is_marked_not_measured(tmp_path, tiny_family):
    info = genlib.save(Tiny(), "tiny", CARD, weights_dir=tmp_path)
    assert info["metrics"] == zoo.NOT_MEASURED and zoo.card_problems(info) == []
    assert zoo.metric(info, "measured_with") is None and zoo.metric(info, "test_nll_nats", 0) == 0


def test_shipped_cards_match_their_weights():
    """Every file in weights/ is a safetensors file with a card whose sha256 matches."""
    for info in genlib.available():
        path = zoo.WEIGHTS_DIR / f"{info['name']}.safetensors"
        assert path.exists(), f"{info['name']}: card without weights"
        assert zoo.sha256_of(path) == info["sha256"], f"{info['name']}: stale card"
    for path in zoo.WEIGHTS_DIR.iterdir():
        assert path.suffix in {".safetensors", ".json", ".md"} or path.name == ".gitkeep", path
