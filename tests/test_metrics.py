"""Content and style distances: zero, symmetry, blind to where things are, hand-computed values, bad names."""

import pytest
import torch

from nst_helpers.data import load_example
from nst_helpers.errors import ImageError, SettingsError
from nst_helpers.metrics import (
    HELD_OUT_LAYERS,
    KINDS,
    content_distance,
    feature_style_distance,
    relative_distance,
    sliced_relative_distance,
    style_distance,
)
from nst_helpers.settings import STATISTICS
from nst_helpers.vgg import STYLE_LAYERS, load_vgg

TOY = torch.tensor([[[[1.0, 2.0], [0.0, 1.0]], [[0.0, 1.0], [3.0, 1.0]]]])  # (1, 2, 2, 2)


@pytest.fixture(scope="module")
def model():
    return load_vgg()


@pytest.fixture(scope="module")
def textures():
    brick, gravel = load_example("brick", max_size=96), load_example("gravel", max_size=96)
    return brick, gravel


def test_the_measures_are_the_statistics_of_the_losses():
    assert KINDS == STATISTICS
    assert not set(HELD_OUT_LAYERS) & set(STYLE_LAYERS)


def test_relative_distance_by_hand():
    a, b = torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0])
    # mean((a - b)^2) = 2; mean(a^2) = 2.5, mean(b^2) = 0.5 -> 2 / 1.5
    assert relative_distance(a, b) == pytest.approx(4 / 3)
    assert relative_distance(a, -a) == pytest.approx(4.0)
    assert relative_distance(torch.zeros(3), torch.zeros(3)) == 0.0


def test_gram_and_meanstd_distances_by_hand():
    other = torch.tensor([[[[2.0, 2.0], [2.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]]]])
    # TOY: G = [[1.5, 0.75], [0.75, 2.75]]; other: G = [[4, 0], [0, 0]]
    diff = (2.5**2 + 0.75**2 + 0.75**2 + 2.75**2) / 4
    scale = 0.5 * ((1.5**2 + 2 * 0.75**2 + 2.75**2) / 4 + 16 / 4)
    assert feature_style_distance(TOY, other, "gram") == pytest.approx(diff / scale)
    # means (1, 1.25) and stds (sqrt 0.5, sqrt 1.1875) against means (2, 0), stds (0, 0) (+ the 1e-8 variance floor)
    mine = torch.tensor([1.0, 1.25, 0.5**0.5, 1.1875**0.5])
    theirs = torch.tensor([2.0, 0.0, 1e-4, 1e-4])
    expected = ((mine - theirs) ** 2).mean() / (0.5 * (mine.pow(2).mean() + theirs.pow(2).mean()))
    assert feature_style_distance(TOY, other, "meanstd") == pytest.approx(expected.item(), rel=1e-6)


def test_sliced_distance_by_hand_with_different_position_counts():
    a = torch.tensor([[[[0.0, 2.0]]]])  # one channel, 2 positions: sorted 0, 2 at quantiles 1/4, 3/4
    b = torch.tensor([[[[0.0, 1.0, 2.0, 3.0]]]])  # 4 positions at quantiles 1/8 ... 7/8
    # a resampled to 4: positions -0.25, 0.25, 0.75, 1.25 of (0, 2) -> 0, 0.5, 1.5, 2
    numerator = (0**2 + 0.5**2 + 0.5**2 + 1**2) / 4
    scale = 0.5 * (2.0 + 3.5)
    assert sliced_relative_distance(a, b, torch.ones(1, 1)) == pytest.approx(numerator / scale)


@pytest.mark.parametrize("kind", KINDS)
def test_style_distances_are_zero_for_identical_images_and_symmetric(kind, model, textures):
    brick, gravel = textures
    assert style_distance(brick, brick, kind, model=model) == pytest.approx(0.0, abs=1e-12)
    there = style_distance(brick, gravel, kind, model=model)
    back = style_distance(gravel, brick, kind, model=model)
    assert there > 0.01 and there == pytest.approx(back, rel=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_style_distances_are_blind_to_where_things_are(kind, model, textures):
    brick, gravel = textures
    shifted = torch.roll(brick, shifts=(31, 45), dims=(-2, -1))
    near, far = style_distance(brick, shifted, kind, model=model), style_distance(brick, gravel, kind, model=model)
    assert near < far / 5, (near, far)
    # the content distance, position by position, sees the shift
    assert content_distance(brick, shifted, model=model) > 0.25


def test_content_distance_zero_symmetric_and_refuses_two_sizes(model, textures):
    brick, gravel = textures
    assert content_distance(brick, brick, model=model) == 0.0
    assert content_distance(brick, gravel, model=model) == pytest.approx(content_distance(gravel, brick, model=model))
    with pytest.raises(ImageError, match="one size"):
        content_distance(brick, gravel[..., :64, :], model=model)


def test_style_distance_on_another_judge(textures):
    brick, gravel = textures
    random_judge = load_vgg("random")
    assert style_distance(brick, gravel, weights="random") == style_distance(brick, gravel, model=random_judge)


@pytest.mark.parametrize("bad, hint", [("grams", "'gram'"), ("meanstdd", "'meanstd'"), ("xyz", None)])
def test_a_bad_kind_is_one_line_with_a_suggestion(bad, hint, textures):
    with pytest.raises(SettingsError) as caught:
        style_distance(*textures, kind=bad)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("kind must be one of")
    assert (f"did you mean {hint}" in message) if hint else "did you mean" not in message


def test_the_sliced_distance_is_seeded_and_leaves_the_global_random_state_alone(model, textures):
    brick, gravel = textures
    state = torch.get_rng_state()
    first = style_distance(brick, gravel, "sliced_wasserstein", model=model, seed=1)
    assert torch.equal(torch.get_rng_state(), state)
    assert style_distance(brick, gravel, "sliced_wasserstein", model=model, seed=1) == first
