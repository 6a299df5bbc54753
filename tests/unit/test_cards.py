"""The model card schema (genlib.zoo.ModelCard): every shipped card follows it, zoo.save and update_card refuse
a card that does not, and genlib.cards migrates the older layouts without changing a number."""
import json

import pytest
import torch

from genlib import cards, zoo

SHIPPED = sorted(zoo.WEIGHTS_DIR.glob("*.json"))

# The layouts the trainers wrote before the schema (shortened copies of real cards).
LEGACY_VAE = {
    "name": "vae-mnist", "family": "vae", "config": {"z_dim": 2}, "dataset": "mnist", "licence": "MNIST",
    "command": "python -m genlib.train vae --name vae-mnist --threads 1 --no-eval", "seed": 0, "steps": 4000,
    "wall_time_s": 1280.4, "parameters": 618084, "storage": "float32", "file_bytes": 2473680, "sha256": "e2" * 32,
    "written": "2026-11-25T14:36:23Z",
    "metrics": {"eval_images": 10000, "test_nll_nats": 147.448, "test_nll_images": 10000, "eval_set": "mnist test",
                "command": "python -m genlib.train vae --name vae-mnist --eval-only --eval-k 1000"},
}
LEGACY_PIXELCNN = {
    **LEGACY_VAE, "name": "pixelcnn-mnist", "family": "pixelcnn",
    "dataset": "MNIST (LeCun, Cortes, Burges), binarized: dynamic Bernoulli(x/255) for training",
    "metrics": {"test_nll_nats": 83.997, "test_bits_per_dim": 0.1546, "test_images": 10000,
                "eval": "standard binarized MNIST test set (ARCHITECTURE.md), measured by "
                        "`python -m genlib.train pixelcnn --name pixelcnn-mnist --export`"},
}
LEGACY_CLASSIFIER = {
    **LEGACY_VAE, "name": "faces-classifier", "family": "classifier",
    "dataset": "UTKFace aligned & cropped, 64x64 RGB, train split (22,151 faces)",
    "metrics": {"test_accuracy_gender": 0.8962, "measured_with": "python -m genlib.train classifier --steps 250  "
                                                                  "(test split, 1,166 faces; accuracies after training)"},
}
LEGACY_GAN_D = {**LEGACY_VAE, "name": "gan-faces-d", "family": "gan", "dataset": LEGACY_CLASSIFIER["dataset"]}
del LEGACY_GAN_D["metrics"]


def numbers(tree) -> list:
    """Every number in a JSON tree, in a canonical order (what a migration must keep)."""
    if isinstance(tree, dict):
        return sorted((n for v in tree.values() for n in numbers(v)), key=repr)
    if isinstance(tree, list):
        return [n for v in tree for n in numbers(v)]
    return [tree] if isinstance(tree, (int, float)) and not isinstance(tree, bool) else []


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_card_follows_the_schema(path):
    info = json.loads(path.read_text())
    assert zoo.card_problems(info) == []
    assert info["name"] == path.stem
    assert info["sha256"] == zoo.sha256_of(path.with_suffix(".safetensors"))
    assert cards.migrate_card(info) == info  # nothing left to migrate


def test_shipped_cards_share_one_vocabulary():
    infos = [json.loads(p.read_text()) for p in SHIPPED]
    assert len(infos) >= 8
    measured = [i for i in infos if i["metrics"]["measured_with"]]
    assert all(i["metrics"]["eval_images"] > 0 and i["metrics"]["eval_set"] for i in measured)
    for retired in ("command", "eval", "test_images"):  # the keys that drifted, per family
        assert not [i["name"] for i in infos if retired in i["metrics"]], retired


@pytest.mark.parametrize("legacy", [LEGACY_VAE, LEGACY_PIXELCNN, LEGACY_CLASSIFIER, LEGACY_GAN_D],
                         ids=["vae", "pixelcnn", "classifier", "gan-d"])
def test_migration_renames_keys_and_keeps_every_number(legacy):
    assert zoo.card_problems(legacy)  # the old layout is not a ModelCard...
    migrated = cards.migrate_card(legacy)
    assert zoo.card_problems(migrated) == []  # ...the migrated one is
    # the one number a migration may add: an image count read from the card's own words (or 0: not measured)
    counted = any(k in legacy.get("metrics", {}) for k in ("eval_images", "test_images"))
    kept = {**migrated, "metrics": {k: v for k, v in migrated["metrics"].items() if counted or k != "eval_images"}}
    assert numbers(kept) == numbers(legacy)
    assert migrated["sha256"] == legacy["sha256"] and migrated["command"] == legacy["command"]
    assert cards.migrate_card(migrated) == migrated  # re-runnable


def test_migration_reads_each_legacy_key():
    pixelcnn = cards.migrate_card(LEGACY_PIXELCNN)["metrics"]
    assert pixelcnn["measured_with"] == "python -m genlib.train pixelcnn --name pixelcnn-mnist --export"
    assert pixelcnn["eval_set"] == "standard binarized MNIST test set (ARCHITECTURE.md)"
    assert pixelcnn["eval_images"] == 10000
    classifier = cards.migrate_card(LEGACY_CLASSIFIER)
    assert classifier["metrics"]["measured_with"] == "python -m genlib.train classifier --steps 250"
    assert classifier["metrics"]["eval_images"] == 1166 and classifier["dataset"]["id"] == "utkface64"
    vae = cards.migrate_card(LEGACY_VAE)
    assert vae["dataset"] == {"id": "mnist", "description": zoo.DATASETS["mnist"]}
    assert vae["metrics"]["measured_with"] == LEGACY_VAE["metrics"]["command"]
    assert cards.migrate_card(LEGACY_GAN_D)["metrics"] == zoo.NOT_MEASURED


def test_migrate_rewrites_a_folder_in_place_and_then_has_nothing_to_do(tmp_path):
    for legacy in (LEGACY_VAE, LEGACY_PIXELCNN):
        (tmp_path / f"{legacy['name']}.json").write_text(json.dumps(legacy))
    assert cards.migrate(tmp_path) == ["pixelcnn-mnist", "vae-mnist"]
    assert cards.migrate(tmp_path) == []
    assert all(zoo.card_problems(json.loads(p.read_text())) == [] for p in tmp_path.glob("*.json"))


@pytest.mark.parametrize("breakage, problem", [
    (lambda c: c.pop("wall_time_s"), "lacks 'wall_time_s'"),
    (lambda c: c.update(dataset="mnist"), "card.dataset must be an object"),
    (lambda c: c["dataset"].update(id="cifar"), "dataset.id 'cifar'"),
    (lambda c: c["metrics"].pop("measured_with"), "lacks 'measured_with'"),
    (lambda c: c["metrics"].update(eval_images="10k"), "eval_images must be int"),
    (lambda c: c.update(steps=1.5), "card.steps must be int"),
    (lambda c: c.update(sha256="abc"), "64 hex"),
    (lambda c: c.update(family="diffusion"), "family 'diffusion'"),
])
def test_the_schema_names_what_is_wrong(breakage, problem):
    info = cards.migrate_card(LEGACY_VAE)
    breakage(info)
    with pytest.raises(zoo.CardError, match=problem):
        zoo.validate(info)


def test_metric_reads_one_key_of_any_card():
    info = cards.migrate_card(LEGACY_VAE)
    assert zoo.metric(info, "test_nll_nats") == 147.448
    assert zoo.metric(info, "eval_images") == 10000
    assert zoo.metric(info, "fid_utk") is None and zoo.metric(None, "test_nll_nats", "-") == "-"
    assert zoo.metric({"name": "no metrics"}, "measured_with") is None


def test_save_refuses_a_card_off_the_schema_before_writing_anything(tmp_path):
    fields = {k: v for k, v in cards.migrate_card(LEGACY_VAE).items()
              if k not in ("name", "parameters", "storage", "file_bytes", "sha256", "written")}
    with pytest.raises(zoo.CardError, match="card.dataset must be an object"):
        zoo.save(torch.nn.Linear(2, 2), "bad", {**fields, "dataset": "mnist"}, tmp_path)
    with pytest.raises(zoo.CardError, match="names no command"):
        zoo.save(torch.nn.Linear(2, 2), "bad", {**fields, "metrics": {**zoo.NOT_MEASURED, "test_nll_nats": 1.0}},
                 tmp_path)
    assert list(tmp_path.iterdir()) == []
    zoo.save(torch.nn.Linear(2, 2), "good", fields, tmp_path)
    with pytest.raises(zoo.CardError, match="eval_set, eval_images"):
        zoo.update_card("good", tmp_path, metrics={"eval_images": 0})
    assert zoo.card("good", tmp_path)["metrics"] == fields["metrics"]  # the card on disk is unchanged
