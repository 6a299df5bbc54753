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


def test_upscale_and_the_encoders():
    import io

    from PIL import Image, JpegImagePlugin

    from genlib.images import gif_bytes, jpeg_bytes, png_bytes, to_uint8_hwc, upscale

    face = torch.rand(3, 64, 64)
    big = upscale(face, 320)
    assert big.size == (320, 320) and big.mode == "RGB"
    png = Image.open(io.BytesIO(png_bytes(big)))
    assert png.format == "PNG" and png.tobytes() == big.tobytes()  # lossless
    jpeg = Image.open(io.BytesIO(jpeg_bytes(big)))
    assert jpeg.format == "JPEG" and JpegImagePlugin.get_sampling(jpeg) == 0  # 4:4:4, not Streamlit's 4:2:0
    gif = Image.open(io.BytesIO(gif_bytes([big, upscale(1 - face, 320), big])))
    assert gif.format == "GIF" and gif.n_frames == 3
    assert to_uint8_hwc(torch.tensor([0.0, 0.5, 1.0]).view(1, 3, 1, 1)).tolist() == [[[[0, 128, 255]]]]
