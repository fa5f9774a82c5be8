"""The speed benchmark compares fair things: its plain loop optimizes the objective every result is scored by, with
the network frozen, and its floor is a frozen bfloat16 channels-last pass that differentiates the input only."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from benchmark_speed import FloorPass, content_at, evaluator_for, plain_loss_function, plain_stylize

from nst_helpers import load_example
from nst_helpers.transfer import resize_style
from nst_helpers.vgg import STYLE_LAYERS

CPU = torch.device("cpu")
SIZE = 128


@pytest.fixture(scope="module")
def images():
    content = content_at(SIZE, CPU)
    style_full = load_example("brushstrokes")
    noisy = (content + 0.1 * torch.randn(content.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    return content, style_full, noisy


def leaves_of(output: torch.Tensor) -> list[torch.Tensor]:
    """The tensors a backward pass from ``output`` would accumulate gradients into."""
    leaves, seen, stack = [], set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if hasattr(node, "variable"):
            leaves.append(node.variable)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return leaves


def test_the_plain_loss_is_the_float32_evaluators_total_in_value_and_gradient(images):
    """Same relative losses, weights and layers as ``stylize`` (float32 rounding only: rtol 1e-5 and 1e-4); a
    bfloat16 or otherwise different objective would be off by 1e-3 or more."""
    content, style_full, noisy = images
    style = resize_style(style_full, content, 1.0, STYLE_LAYERS)
    plain, evaluator = plain_loss_function(content, style, CPU), evaluator_for(content, style_full, CPU)
    ours, reference = noisy.clone().requires_grad_(True), noisy.clone().requires_grad_(True)
    value, expected = plain(ours), evaluator(reference)["total"]
    assert torch.allclose(value, expected, rtol=1e-5)
    value.backward()
    expected.backward()
    assert torch.allclose(ours.grad, reference.grad, rtol=1e-4, atol=1e-6 * float(reference.grad.abs().max()))


def test_the_plain_loop_differentiates_the_image_only(images):
    """Network frozen (``requires_grad_(False)``): the only tensor a backward pass reaches is the image."""
    content, style_full, noisy = images
    image = noisy.clone().requires_grad_(True)
    loss = plain_loss_function(content, resize_style(style_full, content, 1.0, STYLE_LAYERS), CPU)(image)
    assert [leaf is image for leaf in leaves_of(loss)] == [True]


def test_the_plain_loop_lowers_the_loss_and_calls_back_once_per_step(images):
    content, style_full, _ = images
    style = resize_style(style_full, content, 1.0, STYLE_LAYERS)
    calls = []
    result = plain_stylize(content, style, 5, CPU, lambda: calls.append(1))
    loss = plain_loss_function(content, style, CPU)
    assert len(calls) == 5
    assert float(loss(result)) < 0.8 * float(loss(content))


def test_the_floor_is_a_frozen_bfloat16_channels_last_pass_on_the_input(images):
    floor = FloorPass(SIZE, CPU)
    assert not any(parameter.requires_grad for parameter in floor.model.parameters())
    assert all(parameter.dtype == torch.bfloat16 for parameter in floor.model.layers.parameters())  # cast once
    assert floor.image.is_contiguous(memory_format=torch.channels_last) and floor.image.shape[-1] == SIZE
    milliseconds = floor()
    assert 0 < milliseconds < 60_000
    assert floor.image.grad is None  # torch.autograd.grad returns the gradient; nothing is accumulated
