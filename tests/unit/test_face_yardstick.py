"""FD-dlib, the face GAN's external yardstick: dlib's face-recognition network must rank the blur ladder in order
(with the real model files, from requirements-eval.txt), and the ladder reads out in words."""
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


def test_ladder_position_in_words():
    rungs = {0.5: 0.91, 1.0: 2.15, 2.0: 5.26}
    assert fy.position(0.5, 0.78, rungs) == "as close as real photos"
    assert fy.position(1.5, 0.78, rungs) == "between photos blurred by 0.5 px (0.91) and photos blurred by 1 px (2.15)"
    assert fy.position(7.5, 0.78, rungs) == "worse than photos blurred by 2 px (5.26)"
