"""The style statistics as losses: hand-computed values, gradients, the Gram loss as an MMD, and bad names."""

import pytest
import torch

from nst_helpers.errors import SettingsError
from nst_helpers.losses import gram_matrix, style_loss
from nst_helpers.objective import StyleObjective
from nst_helpers.settings import StyleSettings
from nst_helpers.statistics import (
    adain,
    draw_directions,
    get_statistic,
    mean_std,
    random_directions,
    resample_sorted,
    sliced_wasserstein,
    statistic_style_loss,
)
from nst_helpers.transfer import stylize
from nst_helpers.vgg import load_vgg

TOY = torch.tensor([[[[1.0, 2.0], [0.0, 1.0]], [[0.0, 1.0], [3.0, 1.0]]]])  # (1, 2, 2, 2)


def test_mean_std_by_hand():
    stats = mean_std(TOY.double())
    # channel 0: values 1, 2, 0, 1 -> mean 1, variance (0 + 1 + 1 + 0) / 4 = 0.5
    # channel 1: values 0, 1, 3, 1 -> mean 1.25, variance (1.5625 + 0.0625 + 3.0625 + 0.0625) / 4 = 1.1875
    expected = torch.tensor([[[1.0, 1.25], [0.5**0.5, 1.1875**0.5]]], dtype=torch.float64)
    assert stats.shape == (1, 2, 2)
    assert torch.allclose(stats, expected, atol=1e-7)


def test_adain_gives_the_style_statistics_and_keeps_the_content_pattern():
    generator = torch.Generator().manual_seed(0)
    content = torch.randn(1, 4, 5, 6, generator=generator, dtype=torch.float64)
    style = 3 * torch.randn(1, 4, 7, 3, generator=generator, dtype=torch.float64) + 2
    out = adain(content, style)
    assert torch.allclose(mean_std(out), mean_std(style), atol=1e-6)
    # per channel an increasing affine map of the content: the order of the positions is kept
    assert torch.equal(out.flatten(2).argsort(-1), content.flatten(2).argsort(-1))


def test_resample_sorted_is_the_identity_at_the_same_count_and_interpolates_quantiles():
    values = torch.tensor([0.0, 1.0, 2.0, 3.0])
    assert torch.equal(resample_sorted(values, 4), values)
    # 4 values at quantiles 1/8, 3/8, 5/8, 7/8; 2 outputs at quantiles 1/4, 3/4 -> positions 0.5 and 2.5
    assert torch.allclose(resample_sorted(values, 2), torch.tensor([0.5, 2.5]))
    # 8 outputs at quantiles (k + 1/2) / 8 -> positions -0.25 (clamped to 0), 0.25, 0.75, ..., 3.25 (clamped to 3)
    assert torch.allclose(resample_sorted(values, 8), torch.tensor([0.0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0]))


def test_sliced_wasserstein_by_hand_on_one_direction():
    directions = torch.tensor([[1.0], [0.0]])  # project on channel 0
    mine = TOY.flatten(2)  # channel 0: 1, 2, 0, 1 -> sorted 0, 1, 1, 2
    theirs = torch.tensor([[[3.0, 0.0, 1.0, 5.0], [9.0, 9.0, 9.0, 9.0]]])  # sorted 0, 1, 3, 5
    expected = ((0 - 0) ** 2 + (1 - 1) ** 2 + (1 - 3) ** 2 + (2 - 5) ** 2) / 4
    assert sliced_wasserstein(mine, theirs, directions).item() == pytest.approx(expected)


def test_sliced_wasserstein_ignores_the_order_of_positions_and_sees_the_distribution():
    generator = torch.Generator().manual_seed(1)
    features = torch.randn(1, 8, 64, generator=generator)
    directions = random_directions(8, 16, generator)
    shuffled = features[..., torch.randperm(64, generator=generator)]
    assert sliced_wasserstein(shuffled, features, directions).item() == pytest.approx(0.0, abs=1e-10)
    assert sliced_wasserstein(2 * features, features, directions).item() > 0.1


def test_random_directions_are_unit_vectors_and_leave_the_global_random_state_alone():
    state = torch.get_rng_state()
    first = random_directions(5, 7, torch.Generator().manual_seed(3))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.allclose(first.norm(dim=0), torch.ones(7, dtype=torch.float64))
    assert torch.equal(first, random_directions(5, 7, torch.Generator().manual_seed(3)))


def test_the_gram_statistic_is_the_textbook_style_loss():
    generator = torch.Generator().manual_seed(2)
    features = {"a": torch.randn(1, 3, 4, 4, generator=generator), "b": torch.randn(1, 5, 2, 3, generator=generator)}
    targets = {name: gram_matrix(torch.randn(f.shape, generator=generator)) for name, f in features.items()}
    weights = {"a": 0.25, "b": 0.75}
    assert torch.equal(statistic_style_loss(features, targets, weights, "gram"), style_loss(features, targets, weights))


def test_gram_loss_is_a_maximum_mean_discrepancy_with_the_squared_dot_product_kernel():
    """Li et al. 2017: mean((G_x - G_s)**2) over N^2 entries = MMD^2 with k(x, y) = (x.y)^2, divided by N^2."""
    generator = torch.Generator().manual_seed(4)
    x = torch.randn(1, 3, 4, 5, generator=generator, dtype=torch.float64)
    s = torch.randn(1, 3, 6, 2, generator=generator, dtype=torch.float64)
    fx, fs = x.flatten(2)[0].T, s.flatten(2)[0].T  # (M, N): one feature vector per position

    def kernel_mean(a, b):
        return ((a @ b.T) ** 2).mean()

    mmd2 = kernel_mean(fx, fx) + kernel_mean(fs, fs) - 2 * kernel_mean(fx, fs)
    loss = ((gram_matrix(x) - gram_matrix(s)) ** 2).mean()
    assert loss.item() == pytest.approx(mmd2.item() / 9, rel=1e-10)


@pytest.mark.parametrize("name", ["meanstd", "sliced_wasserstein"])
def test_gradients_of_the_new_statistics(name):
    generator = torch.Generator().manual_seed(5)
    features = torch.randn(1, 3, 3, 4, generator=generator, dtype=torch.float64, requires_grad=True)
    target_image = torch.randn(1, 3, 4, 2, generator=generator, dtype=torch.float64)
    directions = random_directions(3, 6, generator)
    if name == "meanstd":
        target = mean_std(target_image)

        def loss(f):
            return ((mean_std(f) - target) ** 2).mean()
    else:
        target = target_image.flatten(2)

        def loss(f):
            return sliced_wasserstein(f.flatten(2), target, directions)

    assert torch.autograd.gradcheck(loss, (features,))
    # the statistic used by runs (float32) computes the same value
    statistic = get_statistic(name)
    value = statistic.distance(features.detach().float(), statistic.target(target_image.float()), directions)
    assert value.item() == pytest.approx(loss(features).item(), rel=1e-4)


@pytest.mark.parametrize("name", ["gram", "meanstd", "sliced_wasserstein"])
def test_each_statistic_is_zero_at_its_target(name):
    features = TOY.float()
    statistic = get_statistic(name)
    directions = random_directions(2, 4, torch.Generator().manual_seed(0)).float()
    assert statistic.distance(features, statistic.target(features), directions).item() == pytest.approx(0, abs=1e-6)


@pytest.mark.parametrize(
    "bad, hint", [("gramm", "'gram'"), ("mean_std", "'meanstd'"), ("sliced", "'sliced_wasserstein'")]
)
def test_a_bad_statistic_name_is_one_line_with_a_suggestion(bad, hint):
    with pytest.raises(SettingsError, match=f"did you mean {hint}") as caught:
        StyleSettings(statistic=bad)
    assert "\n" not in str(caught.value) and "statistic" in str(caught.value)
    with pytest.raises(SettingsError, match=f"did you mean {hint}"):
        get_statistic(bad)


def test_the_objective_uses_the_statistic_and_draws_directions_from_its_seed():
    model = load_vgg("random")
    generator = torch.Generator().manual_seed(6)
    style = torch.rand(1, 3, 40, 40, generator=generator)
    image = torch.rand(1, 3, 32, 32, generator=generator)
    state = torch.get_rng_state()
    values = {}
    for name in ("gram", "meanstd", "sliced_wasserstein"):
        objective = StyleObjective(model, styles=[style], style_layers=["relu1_1", "relu2_1"], statistic=name, seed=3)
        values[name] = objective(image)["style"].item()
        assert objective(style)["style"].item() == pytest.approx(0, abs=1e-6 if name != "gram" else 1e-4)
    again = StyleObjective(model, styles=[style], style_layers=["relu1_1", "relu2_1"], statistic="sliced_wasserstein",
                           seed=3)
    assert again(image)["style"].item() == values["sliced_wasserstein"]
    assert torch.equal(torch.get_rng_state(), state)
    assert len(set(values.values())) == 3 and all(value > 0 for value in values.values())
    directions = draw_directions(again.style_targets, torch.Generator().manual_seed(3))
    assert all(torch.equal(directions[n], again.directions[n]) for n in directions)


def test_sliced_wasserstein_refuses_a_blend_of_styles_before_loading_anything():
    with pytest.raises(SettingsError, match="one style image"):
        stylize(torch.rand(1, 3, 8, 8), [torch.rand(1, 3, 8, 8)] * 2, statistic="sliced_wasserstein")


def test_stylize_adain_optimizes_towards_the_adain_target_of_relu4_1():
    from nst_helpers.adain_target import ADAIN, stylize_adain

    generator = torch.Generator().manual_seed(7)
    content, style = torch.rand(1, 3, 40, 48, generator=generator), torch.rand(1, 3, 50, 50, generator=generator)
    result = stylize_adain(content, style, size=48, steps=3, weights="random", progress=False)
    assert result.image.shape == (1, 3, 40, 48) and result.steps_done == 3
    assert result.settings.statistic == "meanstd" and result.settings.content_layer == "relu4_1"
    assert tuple(result.settings.style_layers) == ADAIN["style_layers"]
    assert result.history["content"][-1] < result.history["content"][0]


def test_stylize_runs_with_each_statistic():
    generator = torch.Generator().manual_seed(8)
    content, style = torch.rand(1, 3, 32, 32, generator=generator), torch.rand(1, 3, 40, 40, generator=generator)
    totals = {}
    for name in ("sliced_wasserstein", "meanstd"):
        result = stylize(content, style, size=32, steps=3, weights="random", statistic=name, progress=False)
        assert result.settings.statistic == name and torch.isfinite(result.image).all()
        totals[name] = result.history["style"]
    assert totals["sliced_wasserstein"] != totals["meanstd"]
