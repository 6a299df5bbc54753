"""FD-dlib: how plausible generated faces are to a face model that nobody here trained.

dlib's face-recognition ResNet (Davis King; 128-D embeddings, trained on about 3 million photos of faces; the
weights ship in the `face-recognition-models` package, dlib itself as the `dlib-bin` wheel) embeds each face;
FD-dlib is the Frechet distance between Gaussians fitted to the embeddings of two sets, x100. Each 64x64 face is
upscaled to 150x150 (bicubic, the network's input size) and dlib's 5-point shape predictor is run with the whole
image as the face box, which aligns the face as the network expects.

Calibrated on a ladder of real faces: training faces against the test faces (the floor), then the same faces
blurred by a Gaussian of 0.5 / 1 / 2 px (at 64x64). The HOG face detector's hit rate is a sanity check
(almost every face, real or generated, is found), not a figure that ranks models.

Evaluation only: needs `pip install -r requirements-eval.txt`; the app never imports this module (a test checks).
An embedding costs ~90 ms per face on one thread, so embeddings of fixed sets are cached by their callers.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

SIZE = 150                       # the face-recognition network's input, in pixels
BLUR_SIGMAS = (0.5, 1.0, 2.0)    # the calibration ladder, Gaussian sigma in pixels at 64x64
SCALE = 100                      # FD-dlib is reported x100 (embedding distances are ~0.6 between people)
SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
EMBEDDING_MODEL = "dlib_face_recognition_resnet_model_v1.dat"


def model_dir() -> Path:
    """Where the `face-recognition-models` package keeps its weights. Found without importing the package,
    whose __init__ needs setuptools' pkg_resources (gone from new Python environments)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("FD-dlib needs the evaluation requirements: pip install -r requirements-eval.txt")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


def upscaled(images01: torch.Tensor) -> np.ndarray:
    """Faces [n,3,h,w] in [0,1] -> uint8 [n, 150, 150, 3], bicubic (PIL's, as the issue's measurement)."""
    from PIL import Image

    x = (images01.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return np.stack([np.asarray(Image.fromarray(face).resize((SIZE, SIZE), Image.BICUBIC)) for face in x])


class FaceModel:
    """dlib's shape predictor, face-recognition network and HOG detector, loaded once."""

    def __init__(self):
        import dlib

        self.dlib = dlib
        self.shape = dlib.shape_predictor(str(model_dir() / SHAPE_MODEL))
        self.net = dlib.face_recognition_model_v1(str(model_dir() / EMBEDDING_MODEL))
        self.detector = dlib.get_frontal_face_detector()

    def embed(self, images01: torch.Tensor) -> np.ndarray:
        """Faces [n,3,h,w] in [0,1] -> embeddings [n, 128] (float64)."""
        faces, box = upscaled(images01), self.dlib.rectangle(0, 0, SIZE - 1, SIZE - 1)
        return np.array([self.net.compute_face_descriptor(face, self.shape(face, box)) for face in faces])

    def detection_rate(self, images01: torch.Tensor) -> float:
        """Share of the faces [n,3,h,w] in which the HOG detector finds at least one face (at 150x150)."""
        return float(np.mean([len(self.detector(face, 0)) > 0 for face in upscaled(images01)]))


def fd_dlib(embeddings_a: np.ndarray, embeddings_b: np.ndarray) -> float:
    """The Frechet distance between Gaussians fitted to two sets of embeddings, x100."""
    from genlib.metrics import frechet_distance_features

    return SCALE * float(frechet_distance_features(embeddings_a, embeddings_b))


def blur_ladder(real01: torch.Tensor) -> dict[float, torch.Tensor]:
    """The calibration rungs: the real faces blurred by each of BLUR_SIGMAS."""
    from genlib.image_quality import gaussian_blur

    return {sigma: gaussian_blur(real01, sigma) for sigma in BLUR_SIGMAS}

