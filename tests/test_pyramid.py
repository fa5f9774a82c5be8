"""The image pyramid: the same image, coarse levels whose gradients are block sums, a clamp that keeps them."""

import pytest
import torch

from nst_helpers.errors import SettingsError
from nst_helpers.optimize import optimize_image
from nst_helpers.pyramid import ImagePyramid, automatic_levels


def test_a_new_pyramid_is_the_starting_image_with_zero_coarse_levels():
    init = torch.rand(1, 3, 5, 7)
    pyramid = ImagePyramid(init, levels=3)
    assert [tuple(level.shape[-2:]) for level in pyramid.levels] == [(5, 7), (3, 4), (2, 2)]  # sides rounded up
    assert torch.equal(pyramid.image(), init)
    assert all(level.requires_grad and level.is_leaf for level in pyramid.levels)
    assert pyramid.levels[0].data_ptr() != init.data_ptr()  # the caller's tensor is never changed


def test_one_level_is_plain_pixels():
    pyramid = ImagePyramid(torch.rand(1, 3, 4, 4), levels=1)
    assert pyramid.image() is pyramid.levels[0]


def test_level_k_gradient_is_the_sum_over_its_block_of_pixel_gradients():
    """For loss = sum(x), every pixel gradient is 1, so level k's gradient is 4**k (bilinear weights sum to 2 per
    side and halving): a smooth change moves 4**k times further per step than on the pixels."""
    pyramid = ImagePyramid(torch.rand(1, 3, 16, 24), levels=4)
    pyramid.image().sum().backward()
    for k, level in enumerate(pyramid.levels):
        assert torch.allclose(level.grad, torch.full_like(level, 4.0**k)), k


def test_the_image_is_the_sum_of_upsampled_levels_and_gradcheck_passes():
    pyramid = ImagePyramid(torch.rand(1, 1, 6, 8, dtype=torch.float64), levels=3)
    with torch.no_grad():
        pyramid.levels[1].copy_(torch.rand_like(pyramid.levels[1]))
        pyramid.levels[2].fill_(0.25)  # a constant level adds a constant
    expected = pyramid.levels[0] + torch.nn.functional.interpolate(
        pyramid.levels[1], size=(6, 8), mode="bilinear", align_corners=False) + 0.25
    assert torch.allclose(pyramid.image(), expected)

    def render(*levels):
        pyramid.levels = list(levels)
        return pyramid.image()

    assert torch.autograd.gradcheck(render, tuple(pyramid.levels))


def test_clamp_makes_a_valid_image_by_changing_only_the_finest_level():
    pyramid = ImagePyramid(torch.full((1, 3, 8, 8), 0.9), levels=2)
    with torch.no_grad():
        pyramid.levels[1].fill_(0.3)  # the image is 1.2 everywhere
    pyramid.clamp_()
    assert torch.allclose(pyramid.image(), torch.ones(1, 3, 8, 8))
    assert torch.equal(pyramid.levels[1], torch.full((1, 3, 4, 4), 0.3))


def test_bad_level_count_is_named():
    for levels in (0, -2):
        expected = rf"pyramid levels must be at least 1 \(1: plain pixels\), got {levels}"
        with pytest.raises(SettingsError, match=expected):
            ImagePyramid(torch.rand(1, 3, 4, 4), levels=levels)


@pytest.mark.parametrize(("side", "levels"), [(16, 1), (63, 1), (64, 2), (128, 3), (256, 4), (512, 5), (1024, 6)])
def test_automatic_levels_stop_at_a_coarsest_side_of_32(side, levels):
    assert automatic_levels(side) == levels


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_optimizing_a_pyramid_reaches_the_target_and_stays_in_range(optimizer):
    """A smooth target plus fine detail: the pyramid's levels together must reproduce both."""
    target = torch.rand(1, 3, 16, 16) * 0.2 + torch.linspace(0.2, 0.7, 16).view(1, 1, 1, 16)
    start = torch.full((1, 3, 16, 16), 0.5)

    def loss(image):
        return {"total": (image - target).pow(2).mean()}

    result = optimize_image(start, loss, steps=60, optimizer=optimizer, progress=False, pyramid_levels=3,
                            lr=0.05 if optimizer == "adam" else None)
    assert [scale["pyramid_levels"] for scale in result.schedule] == [3]
    assert result.schedule[0]["steps"] == 60 and result.schedule[0]["optimizer"] == optimizer
    assert result.history["total"][-1] < 0.02 * result.history["total"][0]
    assert result.image.shape == start.shape and result.image.min() >= 0 and result.image.max() <= 1
    assert torch.allclose(result.image, target, atol=0.03)
