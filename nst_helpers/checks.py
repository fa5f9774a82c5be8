"""Exercise checkers for the notebooks, in the style of CS231n: your function against the reference, on numbers.

Every ``check_…(your_function)`` runs your function on small fixed (seeded) inputs, compares the result with the
reference implementation, prints one verdict and returns the function the rest of the notebook should use: yours
when it is right, else the reference, so the later cells still run. A wrong answer is matched against the usual
mistakes (a missing normalization, a transposed Gram matrix, a forgotten ``zero_grad`` ...) to say what went wrong.

Reading guide: :func:`_matches` is the one comparison; :func:`_verdict` calls a diagnosis and prints; each
``_diagnose_…`` function builds the test input, the reference answer and the typical wrong answers of one exercise.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F

from .control import match_statistics
from .guided import guided_gram
from .loop import make_closure
from .losses import content_loss, gram_matrix, style_loss, total_loss, tv_loss
from .objective import StyleObjective, textbook_style_transfer
from .statistics import mean_std, random_directions, sliced_wasserstein
from .vgg import LAYER_NAMES, VGG19Features, extract_features, load_vgg

OK, WRONG = "✅", "❌"
NOT_IMPLEMENTED = "Not implemented yet - using the reference implementation so the notebook keeps running."
FALLBACK = "using the reference implementation for now."
SEED = 0
# Every reference is the package's own textbook function: the checkers define no solution of their own.


# Comparing and reporting.


def _matches(answer: Any, expected: torch.Tensor) -> bool:
    """True when ``answer`` is a tensor (or number) of the expected shape with the expected values."""
    try:
        answer = torch.as_tensor(answer.detach() if isinstance(answer, torch.Tensor) else answer).double()
    except (TypeError, ValueError, RuntimeError):
        return False
    expected = expected.detach().double()
    if answer.shape != expected.shape and not answer.numel() == expected.numel() == 1:
        return False
    return torch.allclose(answer.reshape(expected.shape), expected, rtol=1e-4, atol=1e-6)


def _first_mistake(answer: Any, mistakes: list[tuple[torch.Tensor, str]]) -> str | None:
    """The message of the first typical wrong answer that ``answer`` equals, if any."""
    return next((message for wrong, message in mistakes if _matches(answer, wrong)), None)


def _scalar_problem(answer: Any) -> str | None:
    """Losses must be one-element tensors that autograd can differentiate."""
    if isinstance(answer, dict):
        return "returned a dict: return one number, the loss itself"
    if not isinstance(answer, torch.Tensor):
        return (f"returned a {type(answer).__name__}, not a tensor (.item(), float() and NumPy cut the gradient): "
                "return the torch tensor")
    if answer.numel() != 1:
        return f"returned a tensor of shape {tuple(answer.shape)} instead of one number: reduce it (with .mean())"
    return None


def _gradient_problem(answer: torch.Tensor, expected: torch.Tensor, inputs: list[torch.Tensor]) -> str | None:
    """Right value, but is the gradient right too? (It is not when part of the computation was detached.)"""
    if not answer.requires_grad:
        return ("the value is right but it is cut off from autograd (.detach(), .item(), torch.no_grad() or NumPy): "
                "the optimizer needs its gradient")
    mine = torch.autograd.grad(answer.sum(), inputs, allow_unused=True)
    reference = torch.autograd.grad(expected.sum(), inputs, allow_unused=True)
    for got, want in zip(mine, reference, strict=True):
        if got is None or not _matches(got, want):
            return "the value is right but the gradient is not: part of the computation is detached"
    return None


def _verdict(
    name: str,
    learner_fn: Callable,
    reference: Callable,
    diagnose: Callable[[Callable], str | None],
    *,
    error_hint: Callable[[Exception], str] = lambda error: "",
    remark: Callable[[], str] = lambda: "",
) -> Callable:
    """Run ``diagnose(learner_fn)``, print one verdict line, return the function later cells should use."""
    try:
        with warnings.catch_warnings():  # e.g. mse_loss's broadcasting warning: the diagnosis explains it better
            warnings.simplefilter("ignore")
            problem = diagnose(learner_fn)
    except NotImplementedError:
        print(NOT_IMPLEMENTED)
        return reference
    except Exception as error:  # the learner's code may fail in any way; say how and carry on
        message = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        problem = f"your function raised {type(error).__name__}: {message}{error_hint(error)}"
    if problem is None:
        print(f"{OK} Correct: your {name} matches the reference.{remark()}")
        return learner_fn
    print(f"{WRONG} {name}: {problem} - {FALLBACK}")
    return reference


# Notebook 01: feature extraction.


def _walk(model: VGG19Features, x: torch.Tensor, layers: list[str], *, store_input: bool = False) -> dict:
    """Run ``model.layers`` on ``x`` without preprocessing; store each wanted output (or, off by one, its input)."""
    features = {}
    for name in LAYER_NAMES[: max(LAYER_NAMES.index(layer) for layer in layers) + 1]:
        before = x
        x = model.layers[name](x)
        if name in layers:
            features[name] = before if store_input else x
    return features


def _diagnose_extract_features(fn: Callable, model: VGG19Features, visited: list[str]) -> str | None:
    layers = ["conv1_1", "relu1_1", "conv2_1", "relu3_1"]
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(SEED)).requires_grad_(True)
    with torch.no_grad():
        expected = model(image, layers)
        unprocessed = _walk(model, image, layers)
        shifted = _walk(model, model.preprocess(image), layers, store_input=True)
    visited.clear()
    answer = fn(model, image, layers)
    if not isinstance(answer, Mapping):
        return f"returned a {type(answer).__name__}: return a dict {{layer name: feature tensor}}"
    missing, extra = [n for n in layers if n not in answer], [n for n in answer if n not in layers]
    if missing:
        return f"layers {missing} are missing from the dict: store every layer named in `layers`"
    if extra:
        return f"returned layers that were not asked for ({extra[:3]}...): keep only the names in `layers`"
    wrong = [n for n in layers if not _matches(answer[n], expected[n])]
    if not wrong:
        if not all(answer[n].requires_grad for n in layers):
            return ("the features are cut off from autograd (torch.no_grad() or .detach()): style transfer needs "
                    "their gradient with respect to the image")
        return None
    if all(_matches(answer[n], unprocessed[n]) for n in layers):
        return ("missing preprocessing: call model.preprocess(image) first (the original VGG19 expects BGR "
                "values 0..255 minus the ImageNet mean, not RGB in [0, 1])")
    if all(_matches(answer[n], shifted[n]) for n in layers):
        return "off by one: each feature was stored before its layer ran; apply the layer first, then store x"
    convs = [n for n in wrong if n.startswith("conv")]
    if convs and all(_matches(answer[n], F.relu(expected[n])) for n in convs) and set(wrong) == set(convs):
        return (f"{convs} were overwritten by an in-place ReLU (they have no negative values): use x = layer(x), "
                "never relu_() or inplace=True, or store x.clone()")
    return f"wrong values at {wrong}: walk model.layers in order, x = model.layers[name](x)"


def check_extract_features(fn: Callable) -> Callable:
    """Check ``fn(model, image, layers) -> {name: feature}`` against ``model(image, layers)``."""
    model = load_vgg("original", device="cpu")
    visited: list[str] = []
    for name, module in model.layers.items():
        module.register_forward_hook(lambda *_, name=name: visited.append(name))

    def remark() -> str:
        if visited and LAYER_NAMES.index(visited[-1]) > LAYER_NAMES.index("relu3_1"):
            return (f" (It ran on to {visited[-1]}, though; stopping after the deepest layer asked for, here "
                    "relu3_1, saves that time.)")
        return ""

    return _verdict("extract_features", fn, extract_features,
                    lambda f: _diagnose_extract_features(f, model, visited), remark=remark)


# Notebook 02: content loss.


def _diagnose_content_loss(fn: Callable) -> str | None:
    generator = torch.Generator().manual_seed(SEED)
    features = torch.randn(1, 4, 3, 5, generator=generator).requires_grad_(True)
    target = torch.randn(1, 4, 3, 5, generator=generator)
    expected = content_loss(features, target)
    answer = fn(features, target)
    if _matches(answer, expected):
        return _scalar_problem(answer) or _gradient_problem(answer, expected, [features])
    difference = (features - target).detach()
    squared = difference.pow(2)
    count = difference.numel()
    mistakes = [
        (squared.sum(), f"sum instead of mean: your value is N*M = {count} times the reference; use .mean()"),
        (0.5 * squared.sum(), "the paper's 1/2 sum (F-P)^2: here we use the mean, see the normalization section"),
        (difference.abs().mean(), "missing square: square the differences, (F - P) ** 2, then take the mean"),
        (difference.mean(), "missing square: square the differences, (F - P) ** 2, then take the mean"),
        (squared.mean().sqrt(), "took the square root: the loss is the mean squared difference, not its root"),
        (0.5 * squared.mean(), "an extra 1/2: the paper's 1/2 belongs to its sum; our mean has no factor"),
    ]
    return _first_mistake(answer, mistakes) or _scalar_problem(answer) or "wrong value: expected mean((F - P)**2)"


def check_content_loss(fn: Callable) -> Callable:
    """Check ``fn(features, target) -> scalar`` against :func:`nst_helpers.content_loss`."""
    return _verdict("content_loss", fn, content_loss, _diagnose_content_loss)


# Notebook 03: Gram matrix and style loss.


def _diagnose_gram_matrix(fn: Callable) -> str | None:
    batch, channels, height, width = 2, 3, 3, 4  # N = 3 channels, M = 12 positions: transposes show in the shape
    positions = height * width
    features = torch.randn(batch, channels, height, width, generator=torch.Generator().manual_seed(SEED))
    features.requires_grad_(True)
    expected = gram_matrix(features)
    answer = fn(features)
    if not isinstance(answer, torch.Tensor):
        return f"returned a {type(answer).__name__}: return a tensor of shape (B, N, N)"
    shape = tuple(answer.shape)
    if shape == (batch, positions, positions):
        return (f"transposed: you returned F^T F (shape (M, M) = {shape[1:]}) instead of F F^T (N, N) = "
                f"{(channels, channels)}: multiply flat @ flat.transpose(1, 2) with flat of shape (B, N, M)")
    if shape != expected.shape:
        return (f"wrong shape: expected (B, N, N) = {tuple(expected.shape)}, got {shape}; reshape to (B, N, H*W), "
                "keeping the batch dimension")
    if _matches(answer, expected):
        return _gradient_problem(answer, expected, [features])
    mistakes = [
        (expected * positions,
         f"not normalized: your values are H*W = {positions} times the reference; divide by the number of positions"),
        (expected / channels, "normalized by N*M instead of M: divide by the number of positions H*W only"),
    ]
    return _first_mistake(answer, mistakes) or "wrong values: expected F F^T / M for each image of the batch"


def check_gram_matrix(fn: Callable) -> Callable:
    """Check ``fn(features (B, N, H, W)) -> (B, N, N)`` against :func:`nst_helpers.gram_matrix`."""
    return _verdict("gram_matrix", fn, gram_matrix, _diagnose_gram_matrix)


def _diagnose_style_loss(fn: Callable) -> str | None:
    generator = torch.Generator().manual_seed(SEED)
    # Square maps with H = W = N: comparing features with Gram matrices broadcasts, so that mistake gives a number.
    shapes = {"relu1_1": (1, 3, 3, 3), "relu2_1": (1, 4, 4, 4)}
    features = {name: torch.randn(shape, generator=generator).requires_grad_(True) for name, shape in shapes.items()}
    features["conv4_2"] = torch.randn(1, 5, 2, 2, generator=generator)  # a content feature, as in a real run
    targets = {name: gram_matrix(torch.randn(shape, generator=generator)) for name, shape in shapes.items()}
    weights = {"relu1_1": 0.8, "relu2_1": 0.2}
    expected = style_loss(features, targets, weights)
    answer = fn(features, targets, weights)
    if _matches(answer, expected):
        return _scalar_problem(answer) or _gradient_problem(answer, expected, [features[n] for n in shapes])
    with torch.no_grad():
        terms = {n: F.mse_loss(gram_matrix(features[n]), targets[n]) for n in shapes}
        first = next(iter(shapes))
        positions = {n: features[n].shape[-1] * features[n].shape[-2] for n in shapes}
        mistakes = [
            (sum(terms.values()), "layer weights ignored: multiply each layer's term by layer_weights[name]"),
            (sum(terms.values()) / len(terms), "layer weights ignored: multiply each layer's term by "
                                               "layer_weights[name] (they replace the mean over layers)"),
            (weights[first] * terms[first], "only the first layer counted: is the return inside the loop?"),
            (sum(weights[n] * ((features[n] - targets[n]) ** 2).mean() for n in shapes),
             "compared features instead of Gram matrices: compare gram_matrix(features[name]) with target_grams[name]"),
            (expected / 4, "the paper's 1/(4 N^2 M^2) factor: here each layer's term is the plain mean of (G - A)^2, "
                           "4 times the paper's E_l"),
            (sum(weights[n] * (gram_matrix(features[n]) - targets[n]).pow(2).sum() for n in shapes),
             "sum instead of mean: average (G - A)^2 over the N*N entries of each layer"),
            (sum(weights[n] * F.mse_loss(gram_matrix(features[n]) * positions[n], targets[n]) for n in shapes),
             "your Gram matrices are not divided by the number of positions (the targets are): use gram_matrix"),
            (expected / len(terms), "divided by the number of layers: the layer weights already sum to 1"),
        ]
    return _first_mistake(answer, mistakes) or _scalar_problem(answer) or (
        "wrong value: expected sum over layers of layer_weights[name] * mean((G - A)**2)")


def _style_error_hint(error: Exception) -> str:
    if isinstance(error, KeyError):
        return " (loop over layer_weights: the features dict also holds other layers, such as the content layer)"
    if "size" in str(error) or "shape" in str(error):
        return " (compared features with Gram matrices? compute gram_matrix(features[name]) first)"
    return ""


def check_style_loss(fn: Callable) -> Callable:
    """Check ``fn(features, target_grams, layer_weights) -> scalar`` against :func:`nst_helpers.style_loss`."""
    return _verdict("style_loss", fn, style_loss, _diagnose_style_loss, error_hint=_style_error_hint)


# Notebook 04: total loss and the optimizer's closure.


def _diagnose_total_loss(fn: Callable) -> str | None:
    terms = {name: torch.tensor(value, requires_grad=True) for name, value in
             {"content": 2.0, "style": 3.0, "tv": 5.0}.items()}
    weights = {"content": 0.5, "style": 7.0, "tv": 0.1}
    expected = total_loss(terms, weights)
    answer = fn(terms, weights)
    if _matches(answer, expected):
        return _scalar_problem(answer) or _gradient_problem(answer, expected, list(terms.values()))
    with torch.no_grad():
        weighted = {name: weights[name] * terms[name] for name in terms}
        mistakes = [
            (sum(terms.values()), "weights ignored: multiply each term by weights[name] before adding"),
            (expected / len(terms), "averaged instead of summed: the total is the plain weighted sum"),
        ] + [
            (expected - weighted[name], f"forgot the {name!r} term: add every term of `terms`")
            for name in terms
        ]
    return _first_mistake(answer, mistakes) or _scalar_problem(answer) or (
        "wrong value: expected sum of weights[name] * terms[name]")


def check_total_loss(fn: Callable) -> Callable:
    """Check ``fn(terms, weights) -> scalar``: the weighted sum of the loss terms."""
    return _verdict("total_loss", fn, total_loss, _diagnose_total_loss)


def _diagnose_closure(fn: Callable) -> str | None:
    target = torch.linspace(-1, 1, 12).reshape(1, 3, 2, 2)
    image = torch.zeros(1, 3, 2, 2, requires_grad=True)
    calls = []

    def loss_function(x: torch.Tensor) -> dict[str, torch.Tensor]:
        calls.append(x)
        content, tv = ((x - target) ** 2).sum(), (x**2).mean()
        return {"content": content, "tv": tv, "total": content + tv}

    expected_loss = loss_function(image.detach())["total"]
    expected_grad = 2 * (image.detach() - target)
    calls.clear()
    closure = fn(image, torch.optim.SGD([image], lr=0.1), loss_function)
    if isinstance(closure, torch.Tensor):
        return "returned the loss instead of the closure: end with `return closure`, without calling it"
    if not callable(closure):
        return f"returned {type(closure).__name__} instead of the closure function: end with `return closure`"
    first = closure()
    if not calls:
        return "the closure never calls loss_function(image)"
    if image.grad is None:
        return "forgot backward: call loss.backward() in the closure, so the optimizer gets a gradient"
    first_grad = image.grad.clone()
    closure()
    if first is None:
        return "did not return the loss: end the closure with `return loss` (L-BFGS needs the value)"
    if isinstance(first, Mapping):
        return 'returned the whole dict: return loss_function(image)["total"]'
    if _matches(image.grad, 2 * first_grad):
        return ("forgot zero_grad (gradients accumulate: the second call's gradient is twice the first); start the "
                "closure with optimizer.zero_grad()")
    if not _matches(first_grad, expected_grad):
        return 'the gradient is not that of the total: call backward on loss_function(image)["total"]'
    if not _matches(first, expected_loss):
        return 'returned something other than the loss: return loss_function(image)["total"]'
    return None


def check_closure(fn: Callable) -> Callable:
    """Check ``fn(image, optimizer, loss_function) -> closure``: zero_grad, loss, backward, return the loss."""
    return _verdict("closure", fn, make_closure, _diagnose_closure)


# Notebook 04: total variation, and the learner's own style transfer.


def _diagnose_tv_loss(fn: Callable) -> str | None:
    image = torch.rand(1, 3, 4, 6, generator=torch.Generator().manual_seed(SEED)).requires_grad_(True)
    expected = tv_loss(image)
    answer = fn(image)
    if _matches(answer, expected):
        return _scalar_problem(answer) or _gradient_problem(answer, expected, [image])
    with torch.no_grad():
        dx, dy = image[..., :, 1:] - image[..., :, :-1], image[..., 1:, :] - image[..., :-1, :]
        mistakes = [
            ((dx**2).sum() + (dy**2).sum(), "sum instead of mean: average each direction's squared differences"),
            (dx.abs().mean() + dy.abs().mean(), "absolute differences: square them, (x[..., 1:] - x[..., :-1])**2"),
            ((dx**2).mean(), "only the horizontal neighbours: add the vertical ones, x[..., 1:, :] - x[..., :-1, :]"),
            ((dy**2).mean(), "only the vertical neighbours: add the horizontal ones, x[..., :, 1:] - x[..., :, :-1]"),
            (((dx**2).mean() + (dy**2).mean()) / 2, "divided by 2: the loss is the sum of the two directions' means"),
        ]
    return _first_mistake(answer, mistakes) or _scalar_problem(answer) or (
        "wrong value: expected mean(dx**2) + mean(dy**2) over horizontal and vertical neighbours")


def check_tv_loss(fn: Callable) -> Callable:
    """Check ``fn(image) -> scalar`` against :func:`nst_helpers.tv_loss`."""
    return _verdict("tv_loss", fn, tv_loss, _diagnose_tv_loss)


TRANSFER_STEPS = 8  # L-BFGS evaluations of the checker's small run
TRANSFER_TOLERANCE = 0.05  # the learner's loss may differ from the reference's by this fraction


def _transfer_problem(answer: Any, content: torch.Tensor, untouched: torch.Tensor) -> str | None:
    """What is wrong with the returned image itself: type, shape, range, the inputs changed, never optimized."""
    if not isinstance(answer, torch.Tensor):
        return f"returned a {type(answer).__name__}: return the optimized image, a tensor (1, 3, H, W)"
    if answer.shape != content.shape:
        return f"returned shape {tuple(answer.shape)}, expected the content's {tuple(content.shape)}"
    if not torch.equal(content.detach(), untouched) or content.requires_grad:
        return ("the content image itself was changed or given requires_grad: optimize a copy, "
                "image = content.clone().requires_grad_(True)")
    if answer.requires_grad:
        return "the returned image still carries autograd: return image.detach().clamp(0, 1)"
    if answer.min() < 0 or answer.max() > 1:
        return "pixels outside [0, 1]: L-BFGS is not clamped during the run, so clamp the result, .clamp(0, 1)"
    if torch.equal(answer, content):
        return ("the image never changed: give the optimizer the image you optimize (make_optimizer('lbfgs', image, "
                "steps)), make it with requires_grad_(True), and call optimizer.step(closure)")
    return None


def _diagnose_style_transfer(fn: Callable, model: VGG19Features) -> str | None:
    generator = torch.Generator().manual_seed(SEED)
    content, style = torch.rand(1, 3, 40, 48, generator=generator), torch.rand(1, 3, 48, 48, generator=generator)
    content = F.avg_pool2d(content, 3, stride=1, padding=1, count_include_pad=False)  # smoother: a photo-like start
    weights = {"content": 1.0, "style": 30.0, "tv": 10.0}
    untouched = content.clone()
    answer = fn(model, content, style, weights, TRANSFER_STEPS)
    problem = _transfer_problem(answer, content, untouched)
    if problem:
        return problem
    judge = StyleObjective(model, content=content, styles=[style], weights=weights, textbook=True)
    reference = textbook_style_transfer(model, content, style, weights, TRANSFER_STEPS)
    with torch.no_grad():
        start, mine, expected = (judge(x)["total"].item() for x in (content, answer, reference))
    if mine >= start:
        return (f"the loss did not go down ({start:.3g} at the photo, {mine:.3g} at your result): is the closure's "
                "loss the total, and does backward reach the image?")
    if abs(mine - expected) > TRANSFER_TOLERANCE * expected:
        return (f"your result's loss is {mine:.3g}, the reference's {expected:.3g} after the same {TRANSFER_STEPS} "
                "steps: check the terms (each feature term divided by its target's mean square, layer weights "
                "1/5), the weights dict, the start (the photo) and the optimizer (L-BFGS)")
    return None


def _transfer_error_hint(error: Exception) -> str:
    text = str(error)
    if "second time" in text:
        return (" (the targets are part of the graph: compute them under torch.no_grad() or .detach() them, "
                "once, outside the closure)")
    if "does not require grad" in text:
        return " (the optimized image needs requires_grad_(True), and the loss must be computed from it)"
    return ""


def check_style_transfer(fn: Callable) -> Callable:
    """Check ``fn(model, content, style, weights, steps) -> image`` against a run of the package's textbook loop."""
    model = load_vgg("original", device="cpu")
    return _verdict("style transfer", fn, textbook_style_transfer,
                    lambda f: _diagnose_style_transfer(f, model), error_hint=_transfer_error_hint)
# Notebook 08: other style statistics.


def _diagnose_mean_std(fn: Callable) -> str | None:
    features = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(SEED)).requires_grad_(True)
    expected = mean_std(features)
    answer = fn(features)
    if not isinstance(answer, torch.Tensor) or tuple(answer.shape) != tuple(expected.shape):
        got = tuple(answer.shape) if isinstance(answer, torch.Tensor) else type(answer).__name__
        return f"expected a tensor of shape (B, 2, N) = {tuple(expected.shape)}, got {got}; stack means, stds on dim 1"
    if _matches(answer, expected):
        return _gradient_problem(answer, expected, [features])
    flat = features.flatten(2)
    unbiased = torch.stack([flat.mean(2), flat.std(2, unbiased=True)], dim=1)
    variance = torch.stack([flat.mean(2), flat.var(2, unbiased=False)], dim=1)
    mistakes = [(unbiased, "the standard deviation divides by M - 1: use var(unbiased=False), the mean over positions"),
                (variance, "the second row holds variances: take the square root (after adding EPS = 1e-8)")]
    return _first_mistake(answer, mistakes) or "wrong values: row 0 the channel means, row 1 sqrt(variance + 1e-8)"


def check_mean_std(fn: Callable) -> Callable:
    """Check ``fn(features (B, N, H, W)) -> (B, 2, N)`` against :func:`nst_helpers.statistics.mean_std`."""
    return _verdict("mean_std", fn, mean_std, _diagnose_mean_std)


def _diagnose_sliced_wasserstein(fn: Callable) -> str | None:
    generator = torch.Generator().manual_seed(SEED)
    flat = torch.randn(1, 4, 10, generator=generator).requires_grad_(True)
    target = torch.randn(1, 4, 10, generator=generator) * 2 + 1
    directions = random_directions(4, 6, generator).float()
    expected = sliced_wasserstein(flat, target, directions)
    answer = fn(flat, target, directions)
    problem = _scalar_problem(answer)
    if problem:
        return problem
    if _matches(answer, expected):
        return _gradient_problem(answer, expected, [flat])
    unsorted = ((directions.T @ flat - directions.T @ target) ** 2).mean()
    if _matches(answer, unsorted):
        return "the projections are compared unsorted (position by position): sort each along the last dimension"
    return "wrong value: project with directions.T @ features, sort along positions, mean of squared differences"


def check_sliced_wasserstein(fn: Callable) -> Callable:
    """Check ``fn(flat (B, N, M), target (B, N, M), directions (N, K))`` against the package's (equal M)."""
    return _verdict("sliced_wasserstein", fn, sliced_wasserstein, _diagnose_sliced_wasserstein)


# Notebook 07: controlling the result.


def _diagnose_guided_gram(fn: Callable) -> str | None:
    generator = torch.Generator().manual_seed(SEED)
    features = torch.randn(1, 3, 4, 5, generator=generator).requires_grad_(True)
    mask = torch.rand(1, 1, 4, 5, generator=generator)  # soft: telling m from m**2 apart
    expected = guided_gram(features, mask, textbook=True)
    answer = fn(features, mask)
    if _matches(answer, expected):
        return _gradient_problem(answer, expected, [features])
    plain = gram_matrix(features * mask).detach() * 20
    mistakes = [
        (plain / 20, "divided by the number of positions H*W: divide by the mask's area, sum(m**2)"),
        (plain / mask.sum(), "divided by sum(m): with m applied to both factors the weights are m**2; divide by "
                             "sum(m**2)"),
        (gram_matrix(features).detach(), "the mask is missing: multiply the features by it first"),
        (plain, "not normalized: divide by sum(m**2)"),
    ]
    return _first_mistake(answer, mistakes) or "wrong values: expected (F m)(F m)^T / sum(m**2)"


def check_guided_gram(fn: Callable) -> Callable:
    """Check ``fn(features (1, N, H, W), mask (1, 1, H, W)) -> (1, N, N)`` against the guided Gram matrix."""
    return _verdict("guided_gram", fn, lambda features, mask: guided_gram(features, mask, textbook=True),
                    _diagnose_guided_gram)


def _diagnose_match_statistics(fn: Callable) -> str | None:
    generator = torch.Generator().manual_seed(SEED)
    values, like = 40 + 20 * torch.rand(50, generator=generator), 60 + 5 * torch.randn(70, generator=generator)
    expected = match_statistics(values, like)
    answer = fn(values, like)
    if _matches(answer, expected):
        return None
    centred = values - values.mean()
    mistakes = [
        (centred + like.mean(), "only the mean moved: scale by std(like) / std(values) too"),
        (centred * like.var() / values.var() + like.mean(),
         "used variances: scale by the ratio of standard deviations"),
        (centred * values.std() / like.std() + like.mean(), "the ratio is upside down: std(like) / std(values)"),
    ]
    return _first_mistake(answer, mistakes) or "wrong values: expected (x - mean x) std(like) / std(x) + mean(like)"


def check_match_statistics(fn: Callable) -> Callable:
    """Check ``fn(values, like)``: ``values`` shifted and scaled to the mean and standard deviation of ``like``."""
    return _verdict("match_statistics", fn, match_statistics, _diagnose_match_statistics)
