"""Face data memory (issue 15): only the asked split is decoded, into one array; the disk cache is opt-in
and, when on, really is what the next call reads; the nearest-face search reads a uint8 bank in chunks."""
import numpy as np

from genlib import data
from genlib.metrics import nearest_neighbours
from tests.unit.test_data import _make_face_shards


def test_a_split_is_decoded_into_one_array_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_CACHE", str(tmp_path / "cache"))
    rows, images = _make_face_shards(tmp_path)
    test = data.load_faces("test", root=tmp_path)
    expected = [images[r["member"]] for r in rows if r["split"] == "test"]
    assert np.array_equal(test["x"], np.stack(expected))
    assert test["x"].flags.owndata  # its own array, not a view that keeps every face alive
    assert list(test["age"]) == [r["age"] for r in rows if r["split"] == "test"]
    assert not any((tmp_path / "cache").glob("*")), "load_faces wrote a cache without being asked"


def test_the_opt_in_cache_is_what_the_second_call_reads(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_CACHE", str(tmp_path / "cache"))
    _make_face_shards(tmp_path)
    first = data.load_faces("train", root=tmp_path, cache=True)
    for shard in (tmp_path / "faces").glob("*.tar.gz"):
        shard.unlink()  # from now on only the cache can answer
    second = data.load_faces("train", root=tmp_path, cache=True)
    assert np.array_equal(first["x"], second["x"])
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["utkface64_train.npy"]


def test_nearest_search_over_a_uint8_bank_in_small_chunks_matches_brute_force():
    rng = np.random.default_rng(4)
    bank = rng.integers(0, 256, (40, 4, 4, 3), dtype=np.uint8)
    q = rng.integers(0, 256, (3, 4, 4, 3)).astype(np.float32)
    d, i = nearest_neighbours(q, bank, k=2, chunk_bytes=4 * 48 * 7)  # 7 faces per chunk
    brute = np.sqrt(((q.reshape(3, 1, -1) - bank.reshape(1, 40, -1).astype(np.float32)) ** 2).sum(-1))
    np.testing.assert_array_equal(i, np.argsort(brute, 1)[:, :2])
    np.testing.assert_allclose(d, np.sort(brute, 1)[:, :2], rtol=1e-4)
