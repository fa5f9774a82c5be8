"""Colour preservation, guided Gram matrices, masks and scale mixing (notebook 07): hand-computed values, errors,
and small runs that measure what the issue asks (chroma kept, colour means kept, each region near its own style)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import nst_helpers as nh
from nst_helpers import control
from nst_helpers.guided import GuidedObjective, Region, guided_gram, layer_mask, load_mask, masked_content_loss
from nst_helpers.inpainting import gram_distance
from nst_helpers.losses import content_loss, gram_matrix
from nst_helpers.mixing import split_layers
from nst_helpers.settings import StyleSettings

QUICK = {"progress": False, "device": "cpu"}


def smooth_image(seed: int, size: int = 24) -> torch.Tensor:
    """A colourful image with values well inside [0, 1] (no clipping in colour transfers)."""
    generator = torch.Generator().manual_seed(seed)
    return 0.3 + 0.4 * torch.rand(1, 3, size, size, generator=generator)


# Guided Gram matrices, by hand.


def test_guided_gram_with_a_mask_of_ones_is_the_gram_matrix():
    features = torch.randn(1, 4, 5, 6, generator=torch.Generator().manual_seed(0))
    ones = torch.ones(1, 1, 5, 6)
    assert torch.allclose(guided_gram(features, ones, textbook=True), gram_matrix(features), atol=1e-6)
    assert torch.allclose(guided_gram(features, None, textbook=True), gram_matrix(features))


def test_guided_gram_binary_mask_is_the_gram_of_the_region():
    features = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])  # one channel
    mask = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]])  # the left column: values 1 and 3
    assert guided_gram(features, mask, textbook=True).item() == pytest.approx((1 + 9) / 2)


def test_guided_gram_soft_mask_weights_positions_by_m_squared():
    features = torch.tensor([[[[2.0, 4.0]]]])
    mask = torch.tensor([[[[1.0, 0.5]]]])
    # (m f)^2 summed = 4 + 4 = 8; sum m^2 = 1.25
    assert guided_gram(features, mask, textbook=True).item() == pytest.approx(8 / 1.25)
    assert guided_gram(features, mask).item() == pytest.approx(8 / 1.25)  # the fast Gram matrix agrees


def test_layer_mask_averages_the_pixels_each_cell_covers():
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :, :2] = 1
    mask[..., 0, 3] = 1
    assert layer_mask(mask, (2, 2)).flatten().tolist() == [1.0, 0.25, 1.0, 0.0]


def test_masked_content_loss_is_the_mean_over_the_masked_positions():
    features = torch.tensor([[[[1.0, 5.0]], [[2.0, 7.0]]]])  # 2 channels, 1x2 positions
    target = torch.zeros_like(features)
    mask = torch.tensor([[[[1.0, 0.0]]]])
    assert masked_content_loss(features, target, mask).item() == pytest.approx((1 + 4) / 2)
    assert masked_content_loss(features, target, torch.ones(1, 1, 1, 2)).item() == pytest.approx(
        content_loss(features, target).item())


def test_one_region_without_mask_is_the_ordinary_style_loss():
    model = nh.load_vgg(device="cpu")
    content, style = smooth_image(0, 32), smooth_image(1, 32)
    options = {"content": content, "style_layers": ("relu1_1", "relu2_1"), "weights": {"style": 1.0}}
    plain = nh.StyleObjective(model, styles=[style], textbook=True, **options)
    guided = GuidedObjective(model, regions=[Region(style)], textbook=True, **options)
    image = smooth_image(2, 32)
    assert guided(image)["total"].item() == pytest.approx(plain(image)["total"].item(), rel=1e-5)


# Masks: what load_mask accepts and refuses.


def test_load_mask_reads_bool_arrays_files_and_soft_values(tmp_path):
    like = torch.zeros(1, 3, 4, 6)
    boolean = np.zeros((4, 6), dtype=bool)
    boolean[:, :3] = True
    assert load_mask(boolean, like).flatten().tolist() == torch.from_numpy(boolean).float().flatten().tolist()
    Image.fromarray((boolean * 255).astype(np.uint8)).save(tmp_path / "mask.png")
    assert torch.equal(load_mask(tmp_path / "mask.png", like), load_mask(boolean, like))
    soft = np.full((4, 6), 0.25, dtype=np.float32)
    assert load_mask(soft, like).unique().tolist() == [0.25]


def test_a_mask_of_another_size_is_resized_and_said_so():
    with pytest.warns(UserWarning, match="resized to the image"):
        mask = load_mask(np.ones((8, 12), dtype=bool), torch.zeros(1, 3, 4, 6))
    assert mask.shape == (1, 1, 4, 6) and bool((mask == 1).all())


def test_an_empty_mask_is_a_clear_error():
    with pytest.raises(nh.SettingsError, match="mask is empty"):
        load_mask(np.zeros((4, 4), dtype=bool), torch.zeros(1, 3, 4, 4))


@pytest.mark.parametrize(("masks", "options", "message"), [
    ([np.ones((8, 8), bool)], {}, "1 masks for 2 style images"),
    ("mask.png", {}, "one mask per style"),
    ([np.ones((8, 8), bool)] * 2, {"textbook": True}, "textbook=False"),
    ([np.ones((8, 8), bool)] * 2, {"style_blend": [1, 1]}, "style_blend"),
])
def test_masks_that_do_not_fit_are_refused_before_any_work(masks, options, message):
    with pytest.raises(nh.SettingsError, match=message):
        nh.stylize("missing.png", ["a.png", "b.png"], masks=masks, **options)


def test_preserve_colors_is_validated_with_the_settings():
    with pytest.raises(nh.SettingsError, match="preserve_colors must be one of"):
        StyleSettings(preserve_colors="lab")
    assert StyleSettings(preserve_colors="luminance").preserve_colors == "luminance"


# Colour transfers, by their defining properties.


def test_linear_colour_transfer_matches_mean_and_covariance():
    style, content = smooth_image(3), smooth_image(4) * torch.tensor([1.0, 0.6, 0.3]).view(1, 3, 1, 1)
    moved = control.to_array(control.linear_color_transfer(style, content)).reshape(-1, 3)
    target = control.to_array(content).reshape(-1, 3)
    assert np.allclose(moved.mean(0), target.mean(0), atol=1e-5)
    assert np.allclose(np.cov(moved.T), np.cov(target.T), atol=1e-5)


def test_histogram_colour_transfer_matches_each_channel_histogram():
    style, content = smooth_image(3), smooth_image(4) * 0.5
    moved = control.to_array(control.histogram_color_transfer(style, content)).reshape(-1, 3)
    target = control.to_array(content).reshape(-1, 3)
    assert np.allclose(np.sort(moved, 0), np.sort(target, 0), atol=1e-6)


def test_lightness_matching_gives_the_content_mean_and_spread_in_grey():
    style, content = smooth_image(5), smooth_image(6) * 0.5
    grey = control.match_lightness(style, content)
    assert torch.allclose(grey[:, 0], grey[:, 1], atol=2e-3) and torch.allclose(grey[:, 1], grey[:, 2], atol=2e-3)
    lightness, target = control.to_lab(grey)[..., 0], control.to_lab(content)[..., 0]
    assert lightness.mean() == pytest.approx(target.mean(), abs=0.05)
    assert lightness.std() == pytest.approx(target.std(), abs=0.05)


def test_a_style_of_one_lightness_becomes_the_content_mean_lightness():
    content = smooth_image(6) * 0.5
    grey = control.match_lightness(torch.full((1, 3, 24, 24), 0.7), content)
    assert bool(torch.isfinite(grey).all())  # no division by a zero spread
    lightness, target = control.to_lab(grey)[..., 0], control.to_lab(content)[..., 0]
    assert lightness.std() < 0.01 and lightness.mean() == pytest.approx(target.mean(), abs=0.05)


def test_recombining_keeps_the_content_chroma_and_the_result_lightness():
    content, result = smooth_image(7), smooth_image(8)
    mixed = control.recombine_lightness(result, content)
    lab, content_lab, result_lab = control.to_lab(mixed), control.to_lab(content), control.to_lab(result)
    assert np.abs(lab[..., 1:] - content_lab[..., 1:]).max() < 0.5
    assert np.abs(lab[..., 0] - result_lab[..., 0]).max() < 0.5


# Small runs: the measurements of the issue.


@pytest.fixture(scope="module")
def photo_and_style():
    return nh.load_example("astronaut", max_size=64), nh.load_example("swirls", max_size=64)


def test_luminance_mode_keeps_the_chroma_and_stylizes_the_lightness(photo_and_style):
    content, style = photo_and_style
    result = nh.stylize(content, style, size=64, steps=20, preserve_colors="luminance", **QUICK).image
    lab, content_lab = control.to_lab(result), control.to_lab(content)
    chroma = np.abs(lab[..., 1:] - content_lab[..., 1:]).mean()
    lightness = np.abs(lab[..., 0] - content_lab[..., 0]).mean()
    print(f"luminance mode: mean |a*b* change| {chroma:.3f}, mean |L* change| {lightness:.2f}")
    assert chroma < 1.0 and lightness > 3.0


def test_histogram_mode_keeps_the_content_colour_means(photo_and_style):
    """Distances between mean colours (RGB, Euclidean); the photo's and the style's are 0.33 apart. 40 steps, so
    that the plain transfer has clearly moved towards the style's colours: after 20 it had moved only 2.6 times as
    far as the histogram mode's result on a CPU with AMX (in its most changed channel)."""
    content, style = photo_and_style
    result = nh.stylize(content, style, size=64, steps=40, preserve_colors="histogram", **QUICK).image
    plain = nh.stylize(content, style, size=64, steps=40, **QUICK).image

    def from_content(image: torch.Tensor) -> float:
        return (image.mean((0, 2, 3)) - content.mean((0, 2, 3))).norm().item()

    kept, lost, style_distance = from_content(result), from_content(plain), from_content(style)
    print(f"histogram mode: mean colour {kept:.3f} from the content's (plain transfer: {lost:.3f}, style: "
          f"{style_distance:.3f})")
    assert kept < style_distance / 4 and lost > 3 * kept


def test_each_masked_region_is_closer_to_its_own_style():
    """Notebook 07's pair at 64 px, 30 steps: swirls on the left half, mosaic on the right."""
    content = nh.load_example("astronaut", max_size=64)
    styles = [nh.load_example("swirls", max_size=64), nh.load_example("mosaic", max_size=64)]
    left = torch.zeros(1, 1, *content.shape[-2:])
    left[..., : content.shape[-1] // 2] = 1
    image = nh.stylize(content, styles, masks=[left, 1 - left], size=64, steps=30, **QUICK).image
    model = nh.load_vgg(device="cpu")
    for mask, own, other in ((left, styles[0], styles[1]), (1 - left, styles[1], styles[0])):
        def colour(style, mask=mask):
            return (image.permute(0, 2, 3, 1)[mask[:, 0].bool()].mean(0) - style.mean((0, 2, 3))).norm().item()
        grams = [gram_distance(image, mask, style, None, model) for style in (own, other)]
        print(f"region: colour distance own {colour(own):.3f} other {colour(other):.3f}; "
              f"Gram distance own {grams[0]:.3f} other {grams[1]:.3f}")
        assert colour(own) < colour(other) and grams[0] < grams[1]


def test_split_layers_gives_fine_and_coarse_layers():
    assert split_layers(list(nh.STYLE_LAYERS), "relu3_1") == (["relu1_1", "relu2_1"], ["relu3_1", "relu4_1", "relu5_1"])
    with pytest.raises(nh.SettingsError, match="no fine layers"):
        split_layers(list(nh.STYLE_LAYERS), "relu1_1")
    with pytest.raises(nh.SettingsError, match="not one of the style layers"):
        split_layers(list(nh.STYLE_LAYERS), "relu4_2")


def test_mix_scales_takes_each_layer_target_from_one_style():
    model = nh.load_vgg(device="cpu")
    fine, coarse, content = smooth_image(9, 32), smooth_image(10, 32), smooth_image(11, 32)
    regions = [Region(fine, layers=["relu1_1"]), Region(coarse, layers=["relu2_1"])]
    objective = GuidedObjective(model, regions=regions, content=content, style_layers=("relu1_1", "relu2_1"),
                                textbook=True)
    with torch.no_grad():
        fine_features, coarse_features = model(fine, ["relu1_1"]), model(coarse, ["relu2_1"])
    assert torch.allclose(objective.region_targets[0]["relu1_1"], gram_matrix(fine_features["relu1_1"]))
    assert torch.allclose(objective.region_targets[1]["relu2_1"], gram_matrix(coarse_features["relu2_1"]))
    assert list(objective.region_targets[0]) == ["relu1_1"] and list(objective.region_targets[1]) == ["relu2_1"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no size warnings in a plain call
        result = nh.mix_scales(content, fine, coarse, size=32, steps=2, **QUICK)
    assert result.image.shape == (1, 3, 32, 32)
