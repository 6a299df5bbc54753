"""A small face classifier (age group, gender, race) trained on UTKFace: the feature extractor of "FID-UTK".

There are no Inception weights here, so the Frechet distance is measured in the feature space of this
network instead. Its 128-D globally pooled features must tell faces apart by what a person sees in
them (age, sex, skin, pose, lighting), which is what the three label heads train them to encode.
FID-UTK numbers are therefore comparable only with each other (same extractor), never with
published Inception FIDs.
"""
from __future__ import annotations

import torch
from torch import nn

# Age groups: finer where faces change fastest (childhood), decades for adults.
AGE_EDGES = [3, 10, 20, 30, 40, 50, 60, 70]  # group i: AGE_EDGES[i-1] <= age < AGE_EDGES[i]
AGE_GROUPS = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+"]
GENDERS = ["male", "female"]
RACES = ["White", "Black", "Asian", "Indian", "Others"]
DEFAULT_CONFIG = {"width": 32, "features": 128}
MEAN_RGB = (0.596, 0.455, 0.392)  # UTKFace pixel mean (PROVENANCE.md: about (152, 116, 100) / 255)


def age_group(age):
    """ages (int tensor or array) -> age-group indices 0..8."""
    return torch.bucketize(torch.as_tensor(age), torch.tensor(AGE_EDGES), right=True)


def _block(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))


class FaceClassifier(nn.Module):
    def __init__(self, width: int = 32, features: int = 128):
        super().__init__()
        w = width
        self.body = nn.Sequential(
            # input is 3 x 64 x 64, mean-subtracted
            _block(3, w, 2),            # state size. (w) x 32 x 32
            _block(w, w * 2, 2),        # state size. (2w) x 16 x 16
            _block(w * 2, w * 2, 1),    # state size. (2w) x 16 x 16
            _block(w * 2, w * 4, 2),    # state size. (4w) x 8 x 8
            _block(w * 4, w * 4, 1),    # state size. (4w) x 8 x 8
            _block(w * 4, features, 2),  # state size. (features) x 4 x 4
            nn.AdaptiveAvgPool2d(1),    # state size. (features) x 1 x 1: the FID-UTK feature vector
            nn.Flatten(),
        )
        self.age = nn.Linear(features, len(AGE_GROUPS))
        self.gender = nn.Linear(features, len(GENDERS))
        self.race = nn.Linear(features, len(RACES))
        self.register_buffer("mean", torch.tensor(MEAN_RGB).view(1, 3, 1, 1))

    def features(self, x01: torch.Tensor) -> torch.Tensor:
        """images [n, 3, 64, 64] in [0, 1] -> features [n, features]."""
        return self.body(x01 - self.mean)

    def forward(self, x01: torch.Tensor) -> dict[str, torch.Tensor]:
        """images [n, 3, 64, 64] in [0, 1] -> logits {"age": [n, 9], "gender": [n, 2], "race": [n, 5]}."""
        f = self.features(x01)
        return {"age": self.age(f), "gender": self.gender(f), "race": self.race(f)}


def build(config: dict | None = None) -> FaceClassifier:
    c = {**DEFAULT_CONFIG, **(config or {})}
    return FaceClassifier(c["width"], c["features"])


@torch.inference_mode()
def extract_features(model: FaceClassifier, images, batch_size: int = 256) -> torch.Tensor:
    """uint8 [N, 64, 64, 3] (numpy/tensor) or float [N, 3, 64, 64] in [0, 1] -> features [N, d] float64."""
    images = torch.as_tensor(images)
    out = []
    for i in range(0, len(images), batch_size):
        x = images[i:i + batch_size]
        if x.dtype == torch.uint8:
            x = x.permute(0, 3, 1, 2).float() / 255.0
        out.append(model.features(x.float()).double())
    return torch.cat(out)
