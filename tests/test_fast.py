"""Each speed or robustness wrapper computes the textbook value (or its documented variant) within a stated
tolerance."""

import pytest
import torch

import nst_helpers as nh
from nst_helpers.fast import (
    bfloat16_model,
    channels_last_model,
    fast_content_loss,
    fast_features,
    fast_gram_matrix,
    fast_style_loss,
)
from nst_helpers.robust import NonFiniteLoss, check_finite, relative_scales
from nst_helpers.transfer import load_run_model


def seeded(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_fast_gram_matrix_equals_the_textbook_in_value_and_gradient():
    """One-product backward: (G_bar + G_bar^T) F / M is autograd's two products, to float64 rounding (1e-12)."""
    features = seeded(2, 5, 3, 4).requires_grad_(True)
    upstream = seeded(2, 5, 5, seed=1)  # not symmetric, so both halves of the rule are exercised
    assert torch.allclose(fast_gram_matrix(features), nh.gram_matrix(features), rtol=1e-12, atol=1e-12)
    (ours,) = torch.autograd.grad((fast_gram_matrix(features) * upstream).sum(), features)
    (textbook,) = torch.autograd.grad((nh.gram_matrix(features) * upstream).sum(), features)
    assert torch.allclose(ours, textbook, rtol=1e-12, atol=1e-12)
    assert torch.autograd.gradcheck(fast_gram_matrix, (features,))


def test_fast_gram_matrix_of_bfloat16_channels_last_features_is_float32():
    """bfloat16 products (float32 accumulation, 8-bit mantissa results): within 1 % of the float32 Gram matrix of the
    same values, in value and gradient (measured: about 0.3 %)."""
    values = seeded(1, 8, 6, 5, dtype=torch.float32).bfloat16()
    features = values.contiguous(memory_format=torch.channels_last).requires_grad_(True)
    exact = values.float().requires_grad_(True)
    gram, reference = fast_gram_matrix(features), nh.gram_matrix(exact)
    assert gram.dtype == torch.float32
    assert (gram - reference).norm() / reference.norm() < 0.01
    upstream = seeded(1, 8, 8, seed=2, dtype=torch.float32)
    (ours,) = torch.autograd.grad((gram * upstream).sum(), features)
    (textbook,) = torch.autograd.grad((reference * upstream).sum(), exact)
    assert ours.dtype == torch.bfloat16 and (ours.float() - textbook).norm() / textbook.norm() < 0.01


def test_fast_losses_equal_the_textbook_losses():
    """Same formula on float32 features: equal to 1e-6 relative, gradients too."""
    features = {"a": seeded(1, 4, 5, 6, dtype=torch.float32).requires_grad_(True),
                "b": seeded(1, 6, 3, 3, seed=1, dtype=torch.float32).requires_grad_(True)}
    targets = {name: nh.gram_matrix(seeded(*f.shape, seed=7, dtype=torch.float32)) for name, f in features.items()}
    weights = {"a": 0.3, "b": 0.7}
    fast, textbook = fast_style_loss(features, targets, weights), nh.style_loss(features, targets, weights)
    assert fast.item() == pytest.approx(textbook.item(), rel=1e-6)
    grads = [torch.autograd.grad(loss, list(features.values())) for loss in (fast, textbook)]
    assert all(torch.allclose(x, y, rtol=1e-5, atol=1e-8) for x, y in zip(*grads, strict=True))
    target = seeded(1, 4, 5, 6, seed=3, dtype=torch.float32)
    assert fast_content_loss(features["a"], target).item() == pytest.approx(
        nh.content_loss(features["a"], target).item(), rel=1e-6)
    assert fast_content_loss(features["a"].bfloat16(), target.bfloat16()).dtype == torch.float32


def test_fast_style_loss_equals_the_textbook_in_float64_value_and_gradient():
    """One node per layer, gradient 4 X R / (M B N^2): autograd's value and gradient to float64 rounding (1e-12),
    for a batch of two images against one target, and gradcheck's finite differences."""
    features = {"a": seeded(2, 5, 3, 4).requires_grad_(True), "b": seeded(2, 3, 2, 2, seed=1).requires_grad_(True)}
    targets = {name: nh.gram_matrix(seeded(1, *f.shape[1:], seed=5)) for name, f in features.items()}
    weights = {"a": 0.25, "b": 2.0}
    fast, textbook = fast_style_loss(features, targets, weights), nh.style_loss(features, targets, weights)
    assert fast.item() == pytest.approx(textbook.item(), rel=1e-12)
    grads = [torch.autograd.grad(loss, list(features.values())) for loss in (fast, textbook)]
    assert all(torch.allclose(x, y, rtol=1e-12, atol=1e-15) for x, y in zip(*grads, strict=True))
    assert torch.autograd.gradcheck(lambda a, b: fast_style_loss({"a": a, "b": b}, targets, weights),
                                    tuple(features.values()))


def test_fast_style_loss_of_bfloat16_channels_last_features():
    """bfloat16 products: loss and gradient within 2 % of the float32 textbook on the same values (measured: about
    0.5 %); the gradient comes back bfloat16 and channels-last, like the features."""
    values = seeded(1, 8, 6, 5, dtype=torch.float32).relu().bfloat16()
    features = values.contiguous(memory_format=torch.channels_last).requires_grad_(True)
    exact = values.float().requires_grad_(True)
    target = {"x": nh.gram_matrix(seeded(1, 8, 6, 5, seed=4, dtype=torch.float32).relu())}
    fast = fast_style_loss({"x": features}, target, {"x": 1.0})
    textbook = nh.style_loss({"x": exact}, target, {"x": 1.0})
    assert fast.dtype == torch.float32 and fast.item() == pytest.approx(textbook.item(), rel=0.02)
    (ours,) = torch.autograd.grad(fast, features)
    (reference,) = torch.autograd.grad(textbook, exact)
    assert ours.dtype == torch.bfloat16 and ours.is_contiguous(memory_format=torch.channels_last)
    assert (ours.float() - reference).norm() / reference.norm() < 0.02


def test_fast_content_loss_gradient_keeps_the_channels_last_order():
    """The gradient joins the next layer's channels-last gradient: in NCHW order the sum and the ReLU backward pass
    would have to reorder memory. Values equal the textbook's to 1e-6."""
    features = seeded(1, 6, 5, 4, dtype=torch.float32).contiguous(memory_format=torch.channels_last)
    features.requires_grad_(True)
    target = seeded(1, 6, 5, 4, seed=2, dtype=torch.float32).contiguous(memory_format=torch.channels_last)
    loss = fast_content_loss(features, target)
    assert loss.item() == pytest.approx(nh.content_loss(features, target).item(), rel=1e-6)
    (grad,) = torch.autograd.grad(loss, features)
    assert grad.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(grad, 2 * (features - target) / features.numel(), rtol=1e-6, atol=1e-9)


def test_fast_features_equal_the_textbook_extractor():
    """Channels-last float32: the same features to 1e-4 relative; bfloat16 autocast: within 3 % (relative norm)."""
    model = nh.load_vgg()
    image = torch.rand(1, 3, 40, 48, generator=torch.Generator().manual_seed(0))
    layers = ["relu1_1", "relu3_1", "relu4_2", "relu5_1"]
    with torch.no_grad():
        textbook = nh.extract_features(model, image, layers)
        fp32 = fast_features(model, image, layers)
        bf16 = fast_features(model, image, layers, bf16=True)
    for name in layers:
        assert torch.allclose(fp32[name], textbook[name], rtol=1e-4, atol=1e-3 * textbook[name].abs().max().item())
        error = (bf16[name].float() - textbook[name]).norm() / textbook[name].norm()
        assert bf16[name].dtype == torch.bfloat16 and error < 0.03


def test_a_channels_last_model_computes_the_textbook_features_and_gradient():
    """Stated tolerance: the same float32 features and image gradient within 1e-5 relative (only memory order moves)."""
    image = torch.rand(1, 3, 40, 56, generator=torch.Generator().manual_seed(5))
    results = []
    for model in (nh.load_vgg(), channels_last_model(nh.load_vgg())):
        x = image.clone().requires_grad_(True)
        features = fast_features(model, x, ["relu2_1", "relu4_2"])
        features["relu4_2"].pow(2).mean().backward()
        results.append((features["relu2_1"].detach(), x.grad))
    (plain_f, plain_g), (cl_f, cl_g) = results
    conv = channels_last_model(nh.load_vgg()).layers["conv3_1"].weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    torch.testing.assert_close(cl_f, plain_f, rtol=1e-5, atol=1e-5 * plain_f.abs().max().item())
    torch.testing.assert_close(cl_g, plain_g, rtol=1e-5, atol=1e-5 * plain_g.abs().max().item())


def test_only_the_speed_path_runs_on_a_channels_last_model():
    fast = load_run_model(nh.StyleSettings())
    textbook = load_run_model(nh.StyleSettings(textbook=True))
    assert fast.layers["conv1_2"].weight.is_contiguous(memory_format=torch.channels_last)
    assert textbook.layers["conv1_2"].weight.is_contiguous()


def test_a_bfloat16_model_gives_autocasts_features_and_gradient_exactly_and_leaves_the_model_alone():
    """Stated tolerance: none. Autocast rounds the float32 weights to bfloat16 at every pass; casting them once gives
    the same weights, so the same features and image gradient, bit for bit."""
    model = channels_last_model(nh.load_vgg())
    cast = bfloat16_model(model)
    image = torch.rand(1, 3, 40, 56, generator=torch.Generator().manual_seed(6))
    results = []
    for network in (model, cast):
        x = image.clone().requires_grad_(True)
        features = fast_features(network, x, ["relu2_1", "relu5_1"], bf16=True)
        features["relu5_1"].float().pow(2).mean().backward()
        results.append((features["relu2_1"].detach(), x.grad))
    assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])
    conv = cast.layers["conv3_1"].weight
    assert conv.dtype == torch.bfloat16 and conv.is_contiguous(memory_format=torch.channels_last)
    assert model.layers["conv3_1"].weight.dtype == torch.float32  # the caller's model is not changed
    assert all(buffer.dtype == torch.float32 for buffer in cast.preprocess.buffers())  # preprocessing in float32


def test_only_a_bfloat16_objective_casts_its_weights_and_the_values_stay():
    model = channels_last_model(nh.load_vgg())
    content = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(7))
    options = dict(content=content, styles=[content.flip(-1)], weights={"content": 1.0, "style": 3.0})
    fast, slow = nh.StyleObjective(model, bf16=True, **options), nh.StyleObjective(model, **options)
    assert fast.model.layers["conv1_1"].weight.dtype == torch.bfloat16 and fast.model is not model
    assert slow.model is model and model.layers["conv1_1"].weight.dtype == torch.float32
    image = (content + 0.05).clamp(0, 1)
    assert fast(image)["total"].item() == pytest.approx(slow(image)["total"].item(), rel=0.03)


def test_relative_scales_make_relative_squared_errors():
    """content_scale * mean((F-P)^2) = ||F-P||^2 / ||P||^2, and w_l / mean(A_l^2) for each style layer."""
    target = torch.tensor([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 2, 2)  # mean square 7.5
    gram = torch.tensor([[[2.0, 0.0], [0.0, 4.0]]])  # mean square (4 + 16) / 4 = 5
    content_scale, layer_weights = relative_scales(target, {"relu1_1": gram}, {"relu1_1": 0.5})
    features = torch.zeros_like(target)
    assert content_scale * nh.content_loss(features, target).item() == pytest.approx(1.0)  # ||0-P||^2/||P||^2
    assert content_scale == pytest.approx(1 / 7.5) and layer_weights == {"relu1_1": pytest.approx(0.5 / 5)}
    assert relative_scales(torch.zeros(1, 1, 2, 2), {}, {})[0] == pytest.approx(1e12)  # floored, never inf


def test_check_finite_stops_on_nan_and_inf_only():
    check_finite(torch.tensor(3.0), 1)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(NonFiniteLoss, match="at step 4"):
            check_finite(torch.tensor(bad), 4)


@pytest.fixture(scope="module")
def pair():
    content = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(1))
    style = torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(2))
    return nh.load_vgg(), content, style


def test_fast_objective_equals_the_textbook_objective(pair):
    """float32 wrappers: the same terms to 1e-4; under bfloat16 autocast within 3 %."""
    model, content, style = pair
    weights = {"content": 1.0, "style": 30.0, "tv": 10.0}
    image = torch.rand(content.shape, generator=torch.Generator().manual_seed(3))
    textbook = nh.StyleObjective(model, content=content, styles=[style], weights=weights, textbook=True)
    fast = nh.StyleObjective(model, content=content, styles=[style], weights=weights)
    bf16 = nh.StyleObjective(model, content=content, styles=[style], weights=weights, bf16=True)
    with torch.no_grad():
        expected, ours, low = textbook(image), fast(image), bf16(image)
    for name, value in expected.items():
        assert ours[name].item() == pytest.approx(value.item(), rel=1e-4)
        assert low[name].item() == pytest.approx(value.item(), rel=0.03)


def test_guarded_loop_follows_the_textbook_loop(pair):
    """Without range penalty and pyramid, optimize_image evaluates the same losses as plain_loop, step by step."""
    model, content, style = pair
    objective = nh.StyleObjective(model, content=content, styles=[style], weights={"style": 30.0}, textbook=True)
    for optimizer in ("lbfgs", "adam"):
        seen = []

        def recorded(image, seen=seen):
            losses = objective(image)
            seen.append(losses["total"].item())
            return losses

        nh.plain_loop(content, recorded, 6, optimizer)
        guarded = nh.optimize_image(content, objective, steps=6, optimizer=optimizer, range_weight=0.0, progress=False)
        assert guarded.history["total"] == pytest.approx(seen[:6], rel=1e-5)
        assert guarded.history["range"] == [0.0] * 6


def test_textbook_stylize_starts_where_the_fast_one_does():
    """At the minimum working size both optimize the same image size from the same start and loss."""
    content = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(1))
    style = torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(2))
    textbook = nh.stylize(content, style, size=128, steps=4, textbook=True, progress=False)
    fast = nh.stylize(content, style, size=128, steps=4, precision="fp32", progress=False)
    assert textbook.history["total"][0] == pytest.approx(fast.history["total"][0], rel=1e-4)
    assert textbook.image.shape == (1, 3, 96, 128) and "range" not in textbook.history
    assert textbook.schedule == [{"size": 128, "steps": 4, "pyramid_levels": 1, "precision": "fp32"}]
