"""The optimization loop and stylize: loss goes down, seeds reproduce, guards hold, steps are counted exactly."""

import random
import warnings

import numpy as np
import pytest
import torch

from nst_helpers import NSTError, StyleSettings, load_example, optimize, robust, schedule, transfer
from nst_helpers import loop as nst_loop
from nst_helpers.losses import gram_matrix
from nst_helpers.objective import StyleObjective
from nst_helpers.optimize import optimize_image
from nst_helpers.transfer import (
    RECONSTRUCTION,
    TEXTURE,
    initial_image,
    reconstruct_content,
    stylize,
    synthesize_texture,
)
from nst_helpers.vgg import STYLE_LAYERS, load_vgg


def FeatureLoss(model, *, content_weight=1.0, style_weight=1.0, tv_weight=0.0, dtype=torch.float32, **kwargs):
    """The objective with the keyword names these tests were written with."""
    weights = {"content": content_weight, "style": style_weight, "tv": tv_weight}
    return StyleObjective(model, weights=weights, bf16=dtype == torch.bfloat16, **kwargs)


def picture(height: int, width: int, seed: int) -> torch.Tensor:
    """A smooth random picture (blurred noise), more image-like than white noise."""
    noise = torch.rand(1, 3, max(2, height // 8), max(2, width // 8), generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.interpolate(noise, size=(height, width), mode="bilinear", align_corners=False)


CONTENT, STYLE = picture(48, 64, 0), picture(40, 40, 1)
FAST = {"size": 48, "progress": False, "precision": "fp32"}


def test_stylize_lowers_the_loss_and_reports_everything():
    result = stylize(CONTENT, STYLE, steps=8, **FAST)
    history = result.history
    assert set(history) == {"content", "style", "tv", "range", "total"}
    assert all(len(values) == 8 for values in history.values())
    assert history["total"][-1] < 0.5 * history["total"][0]
    for step in range(8):  # the weighted terms add up to the total
        parts = sum(history[term][step] for term in ("content", "style", "tv", "range"))
        assert parts == pytest.approx(history["total"][step], rel=1e-5)
    assert result.image.shape == (1, 3, 36, 48)  # longest side 48, aspect ratio of the 48x64 content
    assert result.image.min() >= 0 and result.image.max() <= 1
    assert result.final_loss == min(history["total"])
    assert result.settings.style_weight == StyleSettings().style_weight == 30
    assert result.settings.content_layer == "relu4_2" and result.seconds > 0 and not result.interrupted


def test_stylize_is_reproducible_with_a_seed_on_cpu():
    a = stylize(CONTENT, STYLE, steps=4, init="noise", seed=3, **FAST)
    b = stylize(CONTENT, STYLE, steps=4, init="noise", seed=3, **FAST)
    c = stylize(CONTENT, STYLE, steps=4, init="noise", seed=4, **FAST)
    assert torch.equal(a.image, b.image) and a.history == b.history
    assert not torch.equal(a.image, c.image)


@pytest.mark.parametrize("style_shape", [(20, 90), (90, 30), (64, 64)])
def test_content_and_style_of_different_sizes_and_aspect_ratios(style_shape):
    result = stylize(picture(30, 50, 2), picture(*style_shape, 3), steps=2, **FAST)
    assert result.image.shape == (1, 3, 29, 48)


def test_small_results_are_optimized_at_the_minimum_working_size():
    """Documented upscaling: a 12 px result (too small for relu5_1 by itself) is optimized at 128 px, then downsized."""
    result = stylize(CONTENT, STYLE, steps=2, every=1, **{**FAST, "size": 12})
    assert [scale["size"] for scale in result.schedule] == [robust.MIN_WORKING_SIZE]
    assert result.frames[0][1].shape[-2:] == (96, 128) and result.image.shape == (1, 3, 9, 12)


def test_lbfgs_runs_every_step_asked_even_at_a_minimum():
    """Starting at the content image with only a content loss, the gradient is zero from step one; L-BFGS's own
    tolerances would stop at once, ours runs all steps (one evaluation each)."""
    model = load_vgg()
    loss = FeatureLoss(model, content=CONTENT)
    calls = []
    result = optimize_image(CONTENT, lambda x: calls.append(1) or loss(x), steps=5, progress=False)
    assert len(calls) == 5 and result.steps_done == 5 and result.history["total"][0] == 0


def test_the_short_lbfgs_memory_reaches_the_loss_of_pytorchs_default():
    """Stated tolerance: 20 curvature pairs instead of PyTorch's 100 end within 3 % of its loss after 60 steps."""
    final = {pairs: stylize(CONTENT, STYLE, steps=60, lbfgs_history=pairs, **FAST).final_loss for pairs in (100, 20)}
    assert final[20] != final[100]  # the setting reached the optimizer: past 20 iterations the two runs differ
    assert final[20] == pytest.approx(final[100], rel=0.03)


def test_the_guarded_loop_keeps_the_short_memory_and_the_textbook_loop_pytorchs(monkeypatch):
    made = []
    original = nst_loop.make_optimizer
    monkeypatch.setattr(optimize, "make_optimizer", lambda *a, **k: made.append(("guarded", k)) or original(*a, **k))
    optimize_image(CONTENT, lambda image: {"total": (image - 0.5).pow(2).sum()}, steps=2, progress=False)
    optimize_image(CONTENT, lambda image: {"total": (image - 0.5).pow(2).sum()}, steps=2, progress=False,
                   lbfgs_history=7)
    assert [k["history"] for _, k in made] == [optimize.SHORT_LBFGS_HISTORY, 7] == [20, 7]
    textbook = nst_loop.make_optimizer("lbfgs", CONTENT.clone().requires_grad_(True), steps=5)
    assert textbook.defaults["history_size"] == nst_loop.LBFGS_HISTORY == 100


def test_range_penalty_hand_computed():
    image = torch.tensor([1.5, -0.5, 0.2, 1.0]).reshape(1, 1, 2, 2)
    assert robust.range_penalty(image).item() == pytest.approx((0.5**2 + 0.5**2) / 4)
    assert robust.range_penalty(torch.rand(1, 3, 4, 4)).item() == 0


def pull_towards(value: float, seen: list | None = None):
    """A loss whose minimum, mean((x - value)^2), lies outside [0, 1] when value > 1; records images in ``seen``."""

    def loss(image: torch.Tensor) -> dict[str, torch.Tensor]:
        if seen is not None:
            seen.append(image.detach().clone())
        return {"total": (image - value).pow(2).mean()}

    return loss


def test_range_penalty_holds_lbfgs_inside_the_valid_range():
    """mean((x - 1.3)^2) + w mean((x - 1)^2) for x > 1 is minimal at x = (1.3 + w) / (1 + w): 1.00003 for w = 1e4."""
    start = torch.full((1, 3, 4, 4), 0.5)
    values = {}
    for name, weight in (("free", 0.0), ("held", robust.RANGE_WEIGHT)):
        seen = []
        optimize_image(start, pull_towards(1.3, seen), steps=30, range_weight=weight, progress=False)
        values[name] = seen[-1]
    assert torch.allclose(values["free"], torch.tensor(1.3), atol=1e-3)  # unconstrained L-BFGS leaves [0, 1]
    assert torch.allclose(values["held"], torch.tensor(1 + 0.3 / (1 + robust.RANGE_WEIGHT)), atol=1e-3)


def test_adam_never_pays_a_range_penalty():
    result = optimize_image(torch.full((1, 3, 4, 4), 0.5), pull_towards(1.3), steps=10, optimizer="adam",
                            progress=False)
    assert result.history["range"] == [0.0] * 10


def test_adam_lowers_the_loss_too():
    result = stylize(CONTENT, STYLE, steps=6, optimizer="adam", **FAST)
    assert result.history["total"][-1] < result.history["total"][0]
    assert result.settings.optimizer == "adam" and result.schedule[0]["lr"] == nst_loop.ADAM_LEARNING_RATE


def test_interrupt_returns_the_best_image_so_far():
    seen = {}

    def stop_at_three(step, image, losses):
        seen[step] = losses["total"]
        if step == 3:
            raise KeyboardInterrupt

    with pytest.warns(UserWarning, match="interrupted after 3 steps"):
        result = stylize(CONTENT, STYLE, steps=10, every=1, callback=stop_at_three, **FAST)
    assert result.interrupted and result.steps_done == 3
    assert result.final_loss == min(seen.values())
    assert result.image.shape == (1, 3, 36, 48)


def test_non_finite_loss_stops_and_returns_the_last_finite_image():
    images = []

    def loss_function(image):
        images.append(image.detach().clone())
        value = ((image - 0.3) ** 2).sum()
        return {"total": value * (float("nan") if len(images) == 4 else 1.0)}

    with pytest.warns(RuntimeWarning, match="the loss became nan at step 4"):
        result = optimize_image(torch.rand(1, 3, 8, 8), loss_function, steps=10, optimizer="adam", progress=False)
    assert result.steps_done == 3 and result.stopped_reason.startswith("the loss became nan")
    assert torch.equal(result.image, images[2])  # the third image, the last one with a finite loss


def test_frames_and_callback_every_n_steps():
    steps_seen = []
    result = stylize(CONTENT, STYLE, steps=6, every=2, callback=lambda s, i, v: steps_seen.append(s), **FAST)
    assert [step for step, _ in result.frames] == [2, 4, 6] == steps_seen


def test_several_styles_blend_their_gram_matrices():
    model = load_vgg()
    a, b = picture(32, 32, 5), picture(32, 32, 6)
    only_a = FeatureLoss(model, content=CONTENT, styles=[a])
    blend = FeatureLoss(model, content=CONTENT, styles=[a, b], style_blend=[3, 1])
    with torch.no_grad():
        gram_a = gram_matrix(model(a, ["relu3_1"])["relu3_1"])
        gram_b = gram_matrix(model(b, ["relu3_1"])["relu3_1"])
    # FeatureLoss runs channels-last, whose convolutions sum in another order: equal to float32 rounding.
    assert torch.allclose(only_a.style_targets["relu3_1"], gram_a, rtol=1e-4, atol=1e-2)
    assert torch.allclose(blend.style_targets["relu3_1"], 0.75 * gram_a + 0.25 * gram_b, rtol=1e-4, atol=1e-2)
    with pytest.raises(NSTError, match="style_blend has 1 weights for 2 style images"):
        stylize(CONTENT, [a, b], style_blend=[1], steps=2, **FAST)
    result = stylize(CONTENT, [a, b], style_blend=[1, 1], steps=2, **FAST)
    assert result.settings.style_blend == (1, 1)


@pytest.mark.parametrize("init", ["content", "noise", "style"])
def test_inits(init):
    result = stylize(CONTENT, STYLE, steps=1, init=init, **FAST)
    assert result.settings.init == init
    start = result.frames[0][1]
    if init == "content":
        # 48 px results are optimized at the minimum working size, 128 px, then downsized.
        assert torch.allclose(start, transfer.resize_longest_side(CONTENT, transfer.MIN_WORKING_SIZE), atol=1e-6)
    with pytest.raises(ValueError, match="init must be one of"):  # a SettingsError is also a ValueError
        stylize(CONTENT, STYLE, steps=1, init="zeros", **FAST)


def sizes(settings: StyleSettings, working_size: int) -> list[int]:
    return [scale.size for scale in schedule.plan_scales(settings, working_size)]


def test_coarse_to_fine_schedule():
    assert sizes(StyleSettings(size=512), 512) == [512]
    assert sizes(StyleSettings(scales=(0.25, 0.5, 1), size=1024), 1024) == [256, 512, 1024]
    assert sizes(StyleSettings(scales=(0.5, 1.0), size=128), 128) == [64, 128]
    with pytest.raises(ValueError, match="end with 1"):
        StyleSettings(scales=(0.5, 0.75))
    result = stylize(CONTENT, STYLE, steps=[3, 2], scales=(0.5, 1.0), every=1, **{**FAST, "size": 128})
    assert [s["size"] for s in result.schedule] == [64, 128] and [s["steps"] for s in result.schedule] == [3, 2]
    assert len(result.history["total"]) == 5 and [s for s, _ in result.frames] == [1, 2, 3, 4, 5]
    assert result.frames[0][1].shape[-1] == 64 and result.image.shape == (1, 3, 96, 128)


def test_the_final_loss_of_a_schedule_is_the_last_scales_even_when_a_coarse_scale_went_lower():
    """A coarse scale's loss is of another image; the result's loss is the lowest at the result's own size."""
    def run(totals: list[float]) -> optimize.Result:
        return optimize.Result(image=torch.zeros(1, 3, 2, 2), history={"total": totals}, frames=[], seconds=1.0,
                               schedule=[{"steps": len(totals)}], steps_done=len(totals))
    merged = transfer.merge_scales([run([5.0, 0.5]), run([3.0, 2.0, 2.5])], StyleSettings())
    assert merged.history["total"] == [5.0, 0.5, 3.0, 2.0, 2.5] and merged.image_scale_start == 2
    assert merged.final_loss == 2.0 and merged.steps_done == 5
    assert run([5.0, 0.5]).final_loss == 0.5


def test_a_number_of_steps_is_the_last_scales_and_each_coarser_scale_takes_a_quarter():
    assert schedule.steps_per_scale(200, 1) == [200]
    assert schedule.steps_per_scale(200, 2) == [50, 200]
    assert schedule.steps_per_scale(10, 3) == [2, 2, 10]
    assert schedule.steps_per_scale(3, 2) == [1, 3]  # never zero steps at a scale
    assert schedule.steps_per_scale([7, 5], 2) == [7, 5]
    result = stylize(CONTENT, STYLE, steps=8, scales=(0.5, 1.0), **{**FAST, "size": 128})
    assert [s["steps"] for s in result.schedule] == [2, 8] and result.steps_done == 10


def test_large_lbfgs_results_run_coarse_to_fine_by_default(monkeypatch):
    """With the threshold lowered to the 128 px working size: L-BFGS runs half size first, with a quarter of the
    steps; Adam and an explicit schedule keep what they are given. At the real threshold 48 px runs one scale."""
    def run_sizes(**options):
        return [scale["size"] for scale in stylize(CONTENT, STYLE, **{**FAST, **options}).schedule]

    assert run_sizes(steps=4) == [128]
    monkeypatch.setattr(schedule, "COARSE_TO_FINE_FROM_SIZE", 128)
    automatic = stylize(CONTENT, STYLE, steps=4, **FAST)
    assert [s["size"] for s in automatic.schedule] == [64, 128] and [s["steps"] for s in automatic.schedule] == [1, 4]
    assert automatic.image.shape == (1, 3, 36, 48)
    assert run_sizes(steps=2, optimizer="adam") == [128]
    assert run_sizes(steps=2, scales=(1.0,)) == [128]


def test_pyramid_levels_default_to_pixels_below_the_threshold_and_to_a_pyramid_above(monkeypatch):
    """48 px results run at 128 px: pixels by default; with the threshold lowered to 128, L-BFGS gets 128, 64 and
    32 px levels (Adam keeps the pixels); an explicit count always wins."""
    def levels(**options):
        return [scale["pyramid_levels"] for scale in stylize(CONTENT, STYLE, **{**FAST, **options}).schedule]

    assert levels(steps=2) == [1]
    explicit = stylize(CONTENT, STYLE, steps=6, pyramid_levels=2, **FAST)
    assert explicit.schedule[0]["pyramid_levels"] == 2 and explicit.final_loss < 0.5 * explicit.history["total"][0]
    monkeypatch.setattr(schedule, "PYRAMID_FROM_SIZE", 128)
    assert levels(steps=2) == [3]
    assert levels(steps=2, optimizer="adam") == [1]
    assert levels(steps=[1, 1], scales=(0.5, 1)) == [2, 3]  # 64 px then 128 px, each halved down to 32 px


def test_relative_losses_divide_by_the_target_mean_square():
    """With relative=True each term is ||F - P||^2 / ||P||^2 (content) or ||G - A||^2 / ||A||^2 (per style layer)."""
    model = load_vgg()
    content, style, image = picture(32, 32, 10), picture(32, 32, 11), picture(32, 32, 12)
    loss = FeatureLoss(model, content=content, styles=[style], style_layers=["relu1_1", "relu2_1"])
    raw = FeatureLoss(model, content=content, styles=[style], style_layers=["relu1_1", "relu2_1"], relative=False)
    with torch.no_grad():
        f, p = model(image, ["relu4_2"])["relu4_2"], model(content, ["relu4_2"])["relu4_2"]
        expected_content = ((f - p) ** 2).sum() / (p**2).sum()
        expected_style = 0
        for layer in ("relu1_1", "relu2_1"):
            g = gram_matrix(model(image, [layer])[layer])
            a = gram_matrix(model(style, [layer])[layer])
            expected_style += 0.5 * ((g - a) ** 2).sum() / (a**2).sum()
        relative, absolute = loss(image), raw(image)
    assert relative["content"].item() == pytest.approx(expected_content.item(), rel=1e-3)
    assert relative["style"].item() == pytest.approx(expected_style.item(), rel=1e-3)
    assert absolute["content"].item() == pytest.approx(((f - p) ** 2).mean().item(), rel=1e-3)


def test_default_weights_balance_content_and_style_at_every_size():
    """Style loss at the content image over content loss at white noise stays within 3x from 128 px (the minimum
    working size) to 512 px (measured: 2.1x), so one style weight serves both sizes."""
    model = load_vgg()
    shares = []
    for size in (128, 512):
        content = transfer.resize_longest_side(load_example("chelsea"), size)
        style = transfer.resize_style(load_example("brushstrokes"), content, 1.0, list(STYLE_LAYERS))
        loss = FeatureLoss(model, content=content, styles=[style], style_weight=StyleSettings().style_weight)
        noise = torch.rand(content.shape, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            shares.append(loss(content)["style"].item() / loss(noise)["content"].item())
    assert 1 / 3 < shares[0] / shares[1] < 3


def test_bfloat16_fast_path_computes_the_same_losses():
    """Stated tolerance: bf16 features (8-bit mantissa) give losses within 5% of float32 on the same image."""
    model = load_vgg().to(memory_format=torch.channels_last)
    content, style = picture(64, 64, 7), picture(64, 64, 8)
    image = picture(64, 64, 9)
    fp32 = FeatureLoss(model, content=content, styles=[style], style_weight=1e-3, tv_weight=1.0)
    bf16 = FeatureLoss(model, content=content, styles=[style], style_weight=1e-3, tv_weight=1.0, dtype=torch.bfloat16)
    with torch.no_grad():
        exact, fast = fp32(image), bf16(image)
    for term in ("content", "style", "total"):
        assert fast[term].dtype == torch.float32
        assert fast[term].item() == pytest.approx(exact[term].item(), rel=0.05), term
    assert fast["tv"].item() == pytest.approx(exact["tv"].item(), rel=1e-6)  # TV is on pixels, never bf16


def test_bfloat16_fast_path_gradient_points_the_same_way():
    """Stated tolerance: the image gradients of the two paths have a cosine similarity above 0.98 (measured: 0.995)."""
    model = load_vgg().to(memory_format=torch.channels_last)
    content, style = picture(64, 64, 7), picture(64, 64, 8)
    gradients = []
    for dtype in (torch.float32, torch.bfloat16):
        loss = FeatureLoss(model, content=content, styles=[style], style_weight=30.0, tv_weight=10.0, dtype=dtype)
        image = picture(64, 64, 9).requires_grad_(True)
        loss(image)["total"].backward()
        gradients.append(image.grad.flatten())
    assert torch.nn.functional.cosine_similarity(*gradients, dim=0) > 0.98


def test_reconstruction_and_texture_lower_their_loss():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recon = reconstruct_content(CONTENT, "relu2_2", size=32, steps=10, progress=False)
        texture = synthesize_texture(STYLE, ["relu1_1", "relu2_1"], size=32, steps=10, progress=False)
    for result in (recon, texture):
        assert result.final_loss < 0.5 * result.history["total"][0]
        assert result.image.min() >= 0 and result.image.max() <= 1
    assert recon.settings.content_layer == "relu2_2" and recon.settings.init == "faint_noise"
    assert set(recon.history) == {"content", "style", "tv", "range", "total"} and recon.history["style"][-1] == 0
    assert texture.settings.style_layers == ("relu1_1", "relu2_1") and texture.settings.init == "faint_noise"


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        stylize(CONTENT, STYLE, steps=1, optimizer="sgd", **FAST)
    with pytest.raises(ValueError, match="precision must be one of"):
        stylize(CONTENT, STYLE, steps=1, size=48, precision="fp8", progress=False)
    with pytest.raises(TypeError, match="did you mean 'style_weight'"):
        stylize(CONTENT, STYLE, steps=1, style_wieght=3, **FAST)
    with pytest.raises(ValueError, match="steps has 1 entries but scales has 2"):
        stylize(CONTENT, STYLE, steps=[1], scales=(0.5, 1), **FAST)
    with pytest.raises(ValueError, match="pyramid_levels must be at least 1"):
        stylize(CONTENT, STYLE, steps=1, pyramid_levels=0, **FAST)


def test_stylize_leaves_the_global_random_state_alone():
    states = (random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state())
    stylize(CONTENT, STYLE, steps=2, init="noise", seed=5, **FAST)
    assert random.getstate() == states[0] and np.array_equal(np.random.get_state()[1], states[1])
    assert torch.equal(torch.get_rng_state(), states[2])


def test_settings_of_a_result_repeat_the_run_exactly():
    first = stylize(CONTENT, STYLE, steps=3, init="noise", seed=2, **FAST)
    again = stylize(CONTENT, STYLE, first.settings, progress=False)
    assert torch.equal(first.image, again.image) and first.history == again.history


def test_the_two_halves_weigh_their_one_term_by_one():
    """Reconstruction and texture synthesis report the plain relative error of their one term (weight 1)."""
    recon = reconstruct_content(CONTENT, "relu2_2", size=32, steps=1, progress=False)
    texture = synthesize_texture(STYLE, ["relu1_1"], size=32, steps=1, progress=False)
    assert (recon.settings.content_weight, recon.settings.style_weight) == (1.0, 0.0)
    assert (texture.settings.content_weight, texture.settings.style_weight) == (0.0, 1.0)
    assert recon.history["content"][0] == recon.history["total"][0] - recon.history["range"][0]
    assert 0.5 < texture.history["style"][0] < 2  # noise against a picture: a relative error of order 1


def test_faint_noise_start_is_noise_around_grey_at_a_twentieth_of_the_amplitude():
    content = torch.zeros(1, 3, 8, 10)
    white = initial_image("noise", content, None, seed=5)
    faint = initial_image("faint_noise", content, None, seed=5)
    assert torch.allclose(faint, 0.5 + 0.05 * (white - 0.5))
    assert faint.min() >= 0.475 and faint.max() <= 0.525 and faint.std() > 0.01
    assert TEXTURE["init"] == RECONSTRUCTION["init"] == "faint_noise"
