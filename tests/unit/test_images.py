"""genlib.images.tile lays images out as torchvision's make_grid does (torchvision is a development
requirement, not a hosting one), and the model families' grid helpers never import torchvision."""
import subprocess
import sys

import pytest
import torch

from genlib.images import tile


@pytest.mark.parametrize("n, c, nrow, pad", [(2, 3, 8, 2), (16, 3, 4, 2), (7, 3, 3, 1), (10, 3, 10, 0),
                                             (5, 3, 2, 3), (12, 1, 5, 1)])
def test_tile_matches_make_grid(n, c, nrow, pad):
    from torchvision.utils import make_grid

    images = torch.rand(n, c, 9, 7)
    expected = make_grid(images, nrow=nrow, padding=pad, pad_value=1.0)[:c]  # make_grid turns 1 channel into 3
    assert torch.equal(tile(images, nrow, pad), expected)


def test_a_single_image_comes_back_unpadded():
    image = torch.rand(1, 3, 5, 5)
    assert torch.equal(tile(image, nrow=4, pad=2), image[0])


def test_grid_helpers_do_not_import_torchvision():
    code = ("import sys, torch\n"
            "from genlib import gan, vae\n"
            "assert gan.grid(torch.rand(4, 3, 8, 8)).shape == (2 * 8 + 6, 2 * 8 + 6, 3)\n"
            "assert vae.grid_image(torch.rand(6, 1, 28, 28), 3).shape == (2 * 28 + 3, 3 * 28 + 4)\n"
            "assert 'torchvision' not in sys.modules, 'torchvision was imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
