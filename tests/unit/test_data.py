"""genlib.data on small files the tests make: npz and tar-of-JPEG readers, data root, binarize."""
import csv
import io
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image

from genlib import data


def _write_npz(path, n_train=12, n_test=5):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, n_test, dtype=np.uint8)}
    np.savez(path, **arrays)
    return arrays


def test_load_npz_from_root_argument_and_env(tmp_path, monkeypatch):
    arrays = _write_npz(tmp_path / "mnist.npz")
    got = data.load_npz("mnist", root=tmp_path)
    assert np.array_equal(got["x_test"], arrays["x_test"])
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path))
    assert data.data_root() == tmp_path
    assert got["x_train"].shape == (12, 28, 28)


def test_missing_file_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(data.DataMissingError) as err:
        data.load_npz("fashion", root=tmp_path)
    assert str(tmp_path / "fashion_mnist.npz") in str(err.value)
    assert "GENLAB_DATA" in str(err.value)


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        data.load_npz("cifar")


def test_binarize_uint8_and_float_inputs():
    g = torch.Generator().manual_seed(0)
    x = torch.tensor([[0, 255, 128]], dtype=torch.uint8)
    out = data.binarize(x, generator=g)
    assert out.dtype == torch.float32 and set(out.unique().tolist()) <= {0.0, 1.0}
    assert out[0, 0] == 0 and out[0, 1] == 1  # probability 0 and 1 are deterministic
    mean = data.binarize(torch.full((20000,), 0.3), generator=g).mean().item()
    assert abs(mean - 0.3) < 0.02


def test_standard_binarized_test_set_is_reproducible(tmp_path):
    arrays = _write_npz(tmp_path / "mnist.npz")
    a = data.binarized_test_set("mnist", root=tmp_path)
    b = data.binarized_test_set("mnist", root=tmp_path)
    assert a.shape == (5, 1, 28, 28) and torch.equal(a, b)
    expected = torch.bernoulli(torch.from_numpy(arrays["x_test"]).float()[:, None] / 255,
                               generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, expected)


def _make_face_shards(root, n=6):
    faces = root / "faces"
    faces.mkdir()
    rows, rng = [], np.random.default_rng(1)
    images = {}
    for s, shard in enumerate(data.FACE_SHARDS):
        with tarfile.open(faces / shard, "w:gz") as tar:
            for i in range(n // len(data.FACE_SHARDS)):
                name = f"utkface64/{s}_{i}.jpg"
                arr = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
                buf = io.BytesIO()
                Image.fromarray(arr).save(buf, format="PNG")  # lossless, so the test can compare pixels
                info = tarfile.TarInfo(name)
                info.size = buf.tell()
                buf.seek(0)
                tar.addfile(info, buf)
                images[name] = arr
                rows.append({"index": len(rows), "shard": shard, "member": name, "age": 20 + i,
                             "gender": i % 2, "race": "" if i == 0 else 1,
                             "split": "test" if s == 2 else "train"})
    with open(faces / data.FACE_INDEX, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return rows, images


def test_load_faces_splits_and_labels(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_CACHE", str(tmp_path / "cache"))
    rows, images = _make_face_shards(tmp_path)
    train = data.load_faces("train", root=tmp_path)
    test = data.load_faces("test", root=tmp_path)
    assert train["x"].shape == (4, 64, 64, 3) and test["x"].shape == (2, 64, 64, 3)
    assert np.array_equal(train["x"][0], images[rows[0]["member"]])
    assert train["race"][0] == -1  # missing race field
    assert data.load_faces("all", root=tmp_path)["x"].shape[0] == 6
    assert not (tmp_path / "cache").exists()  # the disk cache is opt-in
    assert not any(p.suffix in {".jpg", ".png", ".npy", ".npz"} for p in data.PROJECT_DIR.glob("*")), \
        "face data must never be cached inside the project"


def test_the_face_cache_is_read_back_and_a_stale_one_is_not(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GENLAB_CACHE", str(cache))
    _make_face_shards(tmp_path)
    decoded = data.load_faces("train", root=tmp_path, cache=True)
    [cached] = cache.glob("*.npy")
    np.save(cached, np.zeros((1, 64, 64, 3), np.uint8))  # a cache that no longer fits the index...
    assert np.array_equal(data.load_faces("train", root=tmp_path, cache=True)["x"], decoded["x"])  # ...is redone
    for shard in data.FACE_SHARDS:
        (tmp_path / "faces" / shard).unlink()
    with pytest.raises(data.DataMissingError):  # without the cache, the faces come from the shards...
        data.load_faces("train", root=tmp_path)
    again = data.load_faces("train", root=tmp_path, cache=True)  # ...with it, from the cache alone
    assert np.array_equal(again["x"], decoded["x"]) and np.array_equal(again["race"], decoded["race"])


def test_demo_images_are_shipped_for_both_datasets():
    for name in ("mnist", "fashion"):
        x, y = data.demo_images(name)
        assert x.shape == (1000, 28, 28) and x.dtype == np.uint8
        assert np.bincount(y, minlength=10).tolist() == [100] * 10
