"""The face GAN's public API (ARCHITECTURE.md), its training CLI (--dry-run) and the shipped weights."""
import json
from pathlib import Path

import pytest
import torch

import genlib
from genlib.gan import Generator, build, recompute_batchnorm_stats, slerp

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(0)
    g = build({"net": "G", "ngf": 8})
    recompute_batchnorm_stats(g, batches=2, batch_size=16)
    return g.eval()


def test_same_seed_same_faces_and_different_seed_different_faces(G):
    a, b = G.sample(4, seed=7), G.sample(4, seed=7)
    assert torch.equal(a, b)
    assert not torch.allclose(a, G.sample(4, seed=8))


def test_seeded_latents_leave_the_global_rng_alone(G):
    torch.manual_seed(3)
    expected = torch.rand(1)
    torch.manual_seed(3)
    G.latents(5, seed=1)
    assert torch.equal(torch.rand(1), expected)


def test_shapes_and_range(G):
    z = G.latents(3, seed=0)
    assert G.z_dim == 128 and z.shape == (3, 128)
    x = G.generate(z)
    assert x.shape == (3, 3, 64, 64) and x.dtype == torch.float32
    assert x.min() >= 0 and x.max() <= 1


def test_truncation_shrinks_latent_spread(G):
    full, half = G.latents(2000, seed=1), G.latents(2000, seed=1, truncation=0.5)
    assert half.std() < full.std()
    assert half.std().item() == pytest.approx(0.5 * full.std().item(), rel=1e-5)
    assert 0.95 < full.std().item() < 1.05  # truncation 1.0 is the plain N(0, I) prior


@pytest.mark.parametrize("bad", [0.0, -0.5, 1.5])
def test_truncation_outside_0_1_is_refused(G, bad):
    with pytest.raises(ValueError):
        G.latents(1, seed=0, truncation=bad)


def test_slerp_ends_are_the_two_seeds_faces(G):
    z0, z1 = G.latents(1, seed=11), G.latents(1, seed=12)
    path = slerp(z0, z1, torch.tensor([0.0, 0.5, 1.0]))
    assert torch.equal(path[0], z0[0]) and torch.equal(path[2], z1[0])
    faces = G.generate(path)
    assert torch.allclose(faces[0], G.sample(1, seed=11)[0], atol=1e-6)
    assert torch.allclose(faces[2], G.sample(1, seed=12)[0], atol=1e-6)
    # the midpoint keeps a typical latent norm (a straight line would shrink it)
    assert path[1].norm() > 0.9 * min(z0.norm(), z1.norm())
    assert path[1].norm() > ((z0 + z1) / 2).norm()


def test_one_face_does_not_depend_on_the_rest_of_the_batch(G):
    """Eval-mode BatchNorm: the page draws faces alone or in a grid of 16, the same face either way."""
    z = G.latents(16, seed=5)
    assert torch.allclose(G.generate(z[3:4]), G.generate(z)[3:4], atol=1e-5)


def test_discriminator_gives_one_probability_per_image():
    torch.manual_seed(0)
    D = build({"net": "D", "ndf": 8})
    with torch.no_grad():  # a few power iterations so spectral norm's sigma estimate converges
        for _ in range(20):
            D(torch.rand(2, 3, 64, 64))
    p = D.eval().opinion(torch.rand(5, 3, 64, 64))
    assert p.shape == (5,) and ((p > 0) & (p < 1)).all()


def test_unknown_net_is_refused():
    with pytest.raises(ValueError):
        build({"net": "X"})


def test_training_dry_run_writes_loadable_weights_and_a_card(tmp_path):
    from genlib.train.__main__ import main

    card = main(["gan", "--dry-run", "--out-dir", str(tmp_path), "--data", str(tmp_path / "no-data")])
    run = tmp_path / "runs" / "gan-faces"  # the run's folder under --out-dir
    assert (run / "checkpoint.pt").exists() and list(run.glob("grid_*.png"))
    assert (run / "log.csv").read_text().startswith("step,")
    assert card["steps"] == 2 and card["storage"] == "float16" and "non-commercial" in card["licence"]
    G = genlib.load("gan-faces", weights_dir=tmp_path)
    assert isinstance(G, Generator) and not G.training
    assert G.sample(2, seed=0).shape == (2, 3, 64, 64)
    D = genlib.load("gan-faces-d", weights_dir=tmp_path)
    assert D.opinion(G.sample(2, seed=0)).shape == (2,)
    # --resume continues from the checkpoint instead of starting over
    card = main(["gan", "--dry-run", "--resume", "--out-dir", str(tmp_path), "--data", str(tmp_path / "no-data")])
    assert card["steps"] == 2 and card["images_seen"] == 16


def test_upsampling_recipe_and_init_chain_count_every_generations_images(tmp_path):
    """--upsample nearest builds G from nearest-neighbour upsampling + 3x3 convolutions (no transposed convolution
    after the first layer); --init records all the images the started-from model saw, over every earlier run."""
    from genlib import families
    from genlib.train.__main__ import main

    data = ["--data", str(tmp_path / "no-data")]
    first = main(["gan", "--dry-run", "--upsample", "nearest", "--out-dir", str(tmp_path / "1"), *data])
    G = genlib.load("gan-faces", weights_dir=tmp_path / "1")
    assert first["config"]["upsample"] == "nearest" and G.sample(2, seed=0).shape == (2, 3, 64, 64)
    assert sum(isinstance(m, torch.nn.ConvTranspose2d) for m in G.modules()) == 1
    for a, b in (("1", "2"), ("2", "3")):
        for name in ("gan-faces", "gan-faces-d"):
            for suffix in (".safetensors", ".json"):
                (tmp_path / b).mkdir(exist_ok=True)
                (tmp_path / b / f"{name}{suffix}").write_bytes((tmp_path / a / f"{name}{suffix}").read_bytes())
        card = main(["gan", "--dry-run", "--init", "gan-faces", "--out-dir", str(tmp_path / b), *data])
    assert card["initialised_from"]["images_seen"] == 32  # two earlier runs of 16 images
    assert families.images_seen(card) == 48 and card["config"]["upsample"] == "nearest"


def test_classifier_dry_run_and_features(tmp_path):
    from genlib.classifier import age_group, extract_features
    from genlib.train.__main__ import main

    card = main(["classifier", "--dry-run", "--out-dir", str(tmp_path), "--data", str(tmp_path / "no-data")])
    assert "test_accuracy_gender" in card["metrics"]
    C = genlib.load("faces-classifier", weights_dir=tmp_path)
    f = extract_features(C, torch.randint(0, 256, (3, 64, 64, 3), dtype=torch.uint8))
    assert f.shape == (3, 16)
    assert age_group(torch.tensor([0, 2, 3, 25, 69, 70, 116])).tolist() == [0, 0, 1, 3, 7, 8, 8]


SHIPPED = ROOT / "weights" / "gan-faces.safetensors"


@pytest.mark.skipif(not SHIPPED.exists(), reason="weights/gan-faces not trained yet")
def test_shipped_generator_is_small_fp16_and_deterministic():
    card = json.loads((ROOT / "weights" / "gan-faces.json").read_text())
    assert SHIPPED.stat().st_size <= 10 * 2**20 and card["storage"] == "float16"
    for field in ("dataset", "licence", "command", "seed", "steps", "wall_time_s", "sha256"):
        assert field in card
    G = genlib.load("gan-faces")
    a = G.sample(2, seed=42)
    assert torch.equal(a, G.sample(2, seed=42)) and a.shape == (2, 3, 64, 64)
    assert a.std() > 0.05  # not a collapsed grey square


def _fake_utkface(root: Path, n: int = 48):
    """A tiny stand-in for ../shared/data/faces: random-pixel 'faces', same file layout and index columns."""
    import csv
    import io
    import tarfile

    import numpy as np
    from PIL import Image

    faces = root / "faces"
    faces.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for s in range(3):
        with tarfile.open(faces / f"utkface64_{s:02d}.tar.gz", "w:gz") as tar:
            for j in range(n // 3):
                i = s * (n // 3) + j
                buf = io.BytesIO()
                Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, format="JPEG")
                info = tarfile.TarInfo(f"utkface64/{i}.jpg")
                info.size = len(buf.getvalue())
                tar.addfile(info, io.BytesIO(buf.getvalue()))
                rows.append({"index": i, "shard": f"utkface64_{s:02d}.tar.gz", "member": info.name,
                             "age": int(rng.integers(1, 90)), "gender": int(rng.integers(0, 2)),
                             "race": int(rng.integers(0, 5)), "split": "test" if i % 4 == 0 else "train",
                             "source_sha256": "", "duplicate_source_names": ""})
    with open(faces / "utkface64_index.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_evaluation_writes_ladder_detector_fid_and_memorisation_into_the_card(tmp_path, monkeypatch):
    from genlib import evaluate_gan, image_quality
    from genlib.train import common
    from genlib.train.__main__ import main as train

    monkeypatch.setenv("GENLAB_CACHE", str(tmp_path / "cache"))  # never touch the real decoded-faces cache
    monkeypatch.setattr(common, "RUNS_DIR", tmp_path / "runs")
    _fake_utkface(tmp_path / "data")
    w = tmp_path / "w"
    train(["gan", "--dry-run", "--out-dir", str(w), "--data", str(tmp_path / "data")])
    train(["classifier", "--dry-run", "--out-dir", str(w), "--data", str(tmp_path / "data")])
    train(["quality", "--dry-run", "--out-dir", str(w), "--data", str(tmp_path / "data")])
    m = evaluate_gan.main(["--weights-dir", str(w), "--data", str(tmp_path / "data"), "--n", "20", "--n-memo", "5"])
    fid = m["fid_utk"]
    for k in ("floor_train_vs_test", "ceiling_blurred_train_vs_test", "generated_vs_test_truncation_1"):
        assert isinstance(fid[k], float) and fid[k] >= 0
    assert "generated_vs_test_truncation_1" in fid and "generated_vs_test_truncation_0.8" in fid
    assert m["memorisation"]["pixel_l2_test_to_train"]["median"] > 0
    card = genlib.card("gan-faces", w)
    assert card["metrics"]["measured_with"].startswith("python -m genlib.evaluate_gan")
    assert card["metrics"]["fid_utk"] == fid
    ladder = card["metrics"]["quality_ladder"]
    assert set(ladder["degraded_real_faces"]) == {label for _, _, label in image_quality.LADDER}
    assert set(ladder["generated"]) == set(ladder["position"]) == {"truncation_1", "truncation_0.8"}
    assert 0 <= card["metrics"]["detector"]["accuracy"] <= 1
