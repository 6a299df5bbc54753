"""Dataset readers for ../shared/data (see its PROVENANCE.md), plus the binarization convention.

Data root: the `root` argument, else $GENLAB_DATA, else ../shared/data beside the project.
Nothing here downloads, except `fetch_mnist` which users with internet call explicitly.
Face images (UTKFace, LFW) are research/education-only: they are read from the data root (and, only
when asked, cached outside the project), never written into it.
"""
from __future__ import annotations

import csv
import io
import os
import tarfile
from pathlib import Path

import numpy as np

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_ROOT = PROJECT_DIR.parent / "shared" / "data"
DEMO_DIR = Path(__file__).resolve().parent / "demo_data"  # small MNIST / Fashion-MNIST test subsets, shipped
NPZ_FILES = {"mnist": "mnist.npz", "fashion": "fashion_mnist.npz"}
CLASS_NAMES = {
    "mnist": [str(i) for i in range(10)],
    "fashion": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}
FACE_SHARDS = ["utkface64_00.tar.gz", "utkface64_01.tar.gz", "utkface64_02.tar.gz"]
FACE_INDEX = "utkface64_index.csv"


class DataMissingError(FileNotFoundError):
    """A dataset file is not where GenLab looks for it."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    return Path(root or os.environ.get("GENLAB_DATA") or DEFAULT_ROOT)


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise DataMissingError(
            f"{what} not found: {path} is missing. Point GENLAB_DATA at the folder that holds it "
            f"(see README, 'Data'), or for MNIST / Fashion-MNIST run `python -m genlib.data fetch`.")
    return path


def load_npz(name: str, root=None) -> dict[str, np.ndarray]:
    """'mnist' or 'fashion' -> dict with x_train (N,28,28) uint8, y_train, x_test, y_test."""
    if name not in NPZ_FILES:
        raise ValueError(f"unknown dataset '{name}'; choose one of {sorted(NPZ_FILES)}")
    path = _require(data_root(root) / NPZ_FILES[name], f"{name} data")
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test")}


def demo_images(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The test-set subset shipped with the app for the demos: (x (N,28,28) uint8, y (N,))."""
    if name not in NPZ_FILES:
        raise ValueError(f"unknown dataset '{name}'; choose one of {sorted(NPZ_FILES)}")
    path = _require(DEMO_DIR / f"{name}_test_demo.npz", f"{name} demo images")
    with np.load(path, allow_pickle=False) as z:
        return z["x"], z["y"]


def binarize(x, generator=None):
    """Bernoulli-sample pixel intensities: uint8 0..255 or floats in [0,1] -> float tensor of 0./1."""
    import torch

    x = torch.as_tensor(x)
    if x.dtype == torch.uint8:
        x = x.float() / 255.0
    return torch.bernoulli(x.float().clamp(0, 1), generator=generator)


def binarized_test_set(name: str = "mnist", root=None):
    """The standard evaluation set (ARCHITECTURE.md): all 10,000 test images binarized once, seed 0.

    Returns a float tensor [10000, 1, 28, 28] of 0./1.
    """
    import torch

    x = torch.from_numpy(load_npz(name, root)["x_test"]).float()[:, None]
    return torch.bernoulli(x / 255, generator=torch.Generator().manual_seed(0))


def read_tar_images(path: Path, mode: str = "RGB") -> dict[str, np.ndarray]:
    """{member name: HxWxC uint8} for every JPEG in a .tar.gz shard."""
    out = {}
    _decode_tar_members(path, lambda name: True, out.__setitem__, mode)
    return out


def _decode_tar_members(path: Path, wanted, store, mode: str = "RGB") -> None:
    """Decode each JPEG of a .tar.gz shard for which wanted(name) holds and hand it to store(name, image)."""
    from PIL import Image

    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if member.isfile() and wanted(member.name):
                img = Image.open(io.BytesIO(tar.extractfile(member).read()))
                store(member.name, np.asarray(img if img.mode == mode else img.convert(mode)))


def read_index(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _cache_dir() -> Path:
    d = Path(os.environ.get("GENLAB_CACHE", Path.home() / ".cache" / "genlab"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def load_faces(split: str = "train", root=None, cache: bool = False) -> dict[str, np.ndarray]:
    """UTKFace 64x64 RGB faces of one split ('train', 'test' or 'all').

    Returns x (N,64,64,3) uint8 and integer labels age, gender, race (race -1 where missing).
    Memory: only the split's faces are decoded, each straight into its place in the one returned array
    (train: 22,151 faces, 272 MB; no second copy of all 23,317 on the way), and shards that hold none
    of the split are not opened. cache=True keeps the decoded split as .npy under $GENLAB_CACHE
    (default ~/.cache/genlab, outside the project) for the next call; off by default, so a server or
    a test never writes hundreds of MB into a home folder unasked.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"unknown split '{split}'; choose train, test or all")
    faces_dir = data_root(root) / "faces"
    rows = [r for r in read_index(_require(faces_dir / FACE_INDEX, "UTKFace index"))
            if split == "all" or r["split"] == split]
    labels = {k: np.array([int(r[k]) if r[k] != "" else -1 for r in rows]) for k in ("age", "gender", "race")}
    cached = _cache_dir() / f"utkface64_{split}.npy" if cache else None
    if cached is not None and cached.exists():
        x = np.load(cached, allow_pickle=False)
        if len(x) == len(rows):
            return {"x": x, **labels}
    position = {r["member"]: i for i, r in enumerate(rows)}
    x = np.empty((len(rows), 64, 64, 3), np.uint8)
    decoded = np.zeros(len(rows), bool)

    def store(name, img):
        x[position[name]] = img
        decoded[position[name]] = True

    for shard in dict.fromkeys(r["shard"] for r in rows):  # index order, each shard once
        _decode_tar_members(_require(faces_dir / shard, "UTKFace shard"), position.__contains__, store)
    if not decoded.all():
        missing = rows[int(np.flatnonzero(~decoded)[0])]["member"]
        raise DataMissingError(f"{(~decoded).sum()} faces of the index are not in their shards (first: {missing})")
    if cached is not None:
        np.save(cached, x)
    return {"x": x, **labels}


def fetch_mnist(dest=None) -> list[Path]:
    """For users with internet: download MNIST and Fashion-MNIST with torchvision into `dest`
    (default: the data root) as the same .npz files. Not used by the app or the tests."""
    from torchvision import datasets

    dest = data_root(dest)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, cls in (("mnist", datasets.MNIST), ("fashion", datasets.FashionMNIST)):
        tmp = dest / f"_{name}_download"
        train, test = cls(tmp, train=True, download=True), cls(tmp, train=False, download=True)
        out = dest / NPZ_FILES[name]
        np.savez_compressed(out, x_train=train.data.numpy(), y_train=train.targets.numpy().astype(np.uint8),
                            x_test=test.data.numpy(), y_test=test.targets.numpy().astype(np.uint8))
        written.append(out)
    return written


def make_demo_subsets(n_per_class: int = 100, root=None) -> list[Path]:
    """Write the shipped demo subsets: the first `n_per_class` test images of each class."""
    DEMO_DIR.mkdir(exist_ok=True)
    written = []
    for name in NPZ_FILES:
        d = load_npz(name, root)
        idx = np.concatenate([np.flatnonzero(d["y_test"] == c)[:n_per_class] for c in range(10)])
        idx.sort()
        out = DEMO_DIR / f"{name}_test_demo.npz"
        np.savez_compressed(out, x=d["x_test"][idx], y=d["y_test"][idx], test_index=idx)
        written.append(out)
    return written


if __name__ == "__main__":
    import sys

    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "fetch":
        print("\n".join(map(str, fetch_mnist(sys.argv[2] if len(sys.argv) > 2 else None))))
    elif command == "demo-subsets":
        print("\n".join(map(str, make_demo_subsets())))
    else:
        sys.exit("usage: python -m genlib.data {fetch [DEST] | demo-subsets}")
