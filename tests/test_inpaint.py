"""Inpainting (notebook 07): known pixels kept exactly, bad masks refused, and a fill that beats the biharmonic
baseline on texture statistics without a visible seam."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nst_helpers as nh
from nst_helpers import cli, inpainting
from nst_helpers.inpainting import biharmonic, compose, gram_distance, seam_ratio

QUICK = {"progress": False, "device": "cpu"}


def square_hole(size: int, start: int, end: int) -> torch.Tensor:
    hole = torch.zeros(1, 1, size, size)
    hole[..., start:end, start:end] = 1
    return hole


def test_compose_takes_known_pixels_from_the_image_and_the_hole_from_the_fill():
    image, fill = torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2)
    hole = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    assert compose(image, fill, hole)[0, 0].tolist() == [[1.0, 0.0], [0.0, 0.0]]


def test_every_pixel_outside_the_mask_is_exactly_the_input():
    image = nh.load_example("gravel", max_size=48)
    hole = square_hole(48, 16, 32)
    result = nh.inpaint(image, hole, steps=3, **QUICK)
    outside = hole.expand_as(image) == 0
    assert torch.equal(result.image[outside], image[outside])
    assert not torch.equal(result.image[~outside], image[~outside])
    assert all(torch.equal(frame[outside], image[outside]) for _, frame in result.frames)


def test_a_soft_mask_is_cut_at_one_half():
    image = nh.load_example("grass", max_size=32)
    soft = torch.full((1, 1, 32, 32), 0.4)
    soft[..., 8:16, 8:16] = 0.9
    result = nh.inpaint(image, soft, steps=2, **QUICK)
    outside = (soft <= 0.5).expand_as(image)
    assert torch.equal(result.image[outside], image[outside])


def test_a_mask_of_another_size_is_resized_with_a_warning():
    image = nh.load_example("gravel", max_size=32)
    with pytest.warns(UserWarning, match="resized to the image"):
        result = nh.inpaint(image, square_hole(64, 16, 48), steps=2, **QUICK)
    assert result.image.shape == image.shape


@pytest.mark.parametrize(("mask", "message"), [
    (torch.zeros(1, 1, 32, 32), "mask is empty"),
    (torch.full((1, 1, 32, 32), 0.3), "no pixel above 0.5"),
    (torch.ones(1, 1, 32, 32), "covers the whole image"),
])
def test_bad_masks_are_clear_errors(mask, message):
    with pytest.raises(nh.SettingsError, match=message):
        nh.inpaint(nh.load_example("gravel", max_size=32), mask, steps=1, **QUICK)


def test_a_mask_over_everything_with_a_source_is_a_texture_synthesis():
    texture = nh.load_example("gravel", max_size=32)
    result = nh.inpaint(torch.zeros(1, 3, 32, 32), torch.ones(1, 1, 32, 32), source=texture, steps=3, **QUICK)
    assert result.image.shape == (1, 3, 32, 32) and result.image.std().item() > 0.01


@pytest.mark.parametrize("option", [{"textbook": True}, {"preserve_colors": "luminance"}])
def test_unsupported_options_are_refused(option):
    with pytest.raises(nh.SettingsError, match="inpaint takes neither"):
        nh.inpaint("missing.png", "mask.png", **option)


def test_the_command_line_defaults_are_the_function_defaults():
    assert cli.INPAINT_DEFAULTS == inpainting.INPAINT


def test_seam_ratio_is_about_one_for_the_original_texture_and_high_for_a_pasted_square():
    texture = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    hole = square_hole(64, 20, 44)
    assert seam_ratio(texture, hole) == pytest.approx(1.0, abs=0.1)
    flat = torch.full((1, 3, 64, 64), 0.5)
    pasted = compose(flat, torch.ones_like(flat), hole)
    assert seam_ratio(pasted, hole) > 100


def test_the_fill_beats_the_biharmonic_baseline_on_gravel():
    texture = nh.resize_longest_side(nh.load_example("gravel")[..., :256, :256], 64)
    hole = square_hole(64, 20, 44)
    ours = nh.inpaint(texture, hole, steps=40, **QUICK).image
    base = biharmonic(texture, hole)
    model = nh.load_vgg(device="cpu")
    grams = [gram_distance(image, hole, texture, 1 - hole, model) for image in (ours, base, texture)]
    seams = [seam_ratio(image, hole) for image in (ours, base, texture)]
    print(f"gravel 64 px: Gram distance ours {grams[0]:.3f}, biharmonic {grams[1]:.3f}, original {grams[2]:.3f}; "
          f"seam ratio ours {seams[0]:.2f}, biharmonic {seams[1]:.2f}, original {seams[2]:.2f}")
    assert grams[0] < 0.5 * grams[1]
    assert 0.6 * seams[2] < seams[0] < 1.5 * seams[2]
    assert np.isfinite(grams).all()
