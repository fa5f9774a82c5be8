"""Notebook 04's checkers for total variation and for the learner's own style transfer: the right answer passes,
a stub falls back to the reference, and deliberately broken versions are told what is wrong."""

import pytest
import torch

import nst_helpers as nh
from nst_helpers import checks


def stub(*args):
    raise NotImplementedError("your code here")


def my_tv(image):
    dx, dy = image[..., :, 1:] - image[..., :, :-1], image[..., 1:, :] - image[..., :-1, :]
    return (dx**2).mean() + (dy**2).mean()


def tv_sum(image):
    return ((image[..., :, 1:] - image[..., :, :-1]) ** 2).sum() + ((image[..., 1:, :] - image[..., :-1, :]) ** 2).sum()


def tv_horizontal(image):
    return ((image[..., :, 1:] - image[..., :, :-1]) ** 2).mean()


def tv_absolute(image):
    return (image[..., :, 1:] - image[..., :, :-1]).abs().mean() + (image[..., 1:, :] - image[..., :-1, :]).abs().mean()


def tv_detached(image):
    return my_tv(image.detach())


@pytest.mark.parametrize(("wrong", "text"), [
    (tv_sum, "sum instead of mean"), (tv_horizontal, "only the horizontal"), (tv_absolute, "absolute differences"),
    (tv_detached, "cut off from autograd"), (lambda image: my_tv(image) / 2, "divided by 2"),
])
def test_tv_mistakes_are_named(wrong, text, capsys):
    assert checks.check_tv_loss(wrong) is nh.tv_loss
    output = capsys.readouterr().out
    assert output.startswith("❌ ") and text in output


def test_tv_right_answer_and_stub(capsys):
    assert checks.check_tv_loss(my_tv) is my_tv
    assert capsys.readouterr().out.startswith("✅ Correct")
    assert checks.check_tv_loss(stub) is nh.tv_loss
    assert capsys.readouterr().out == checks.NOT_IMPLEMENTED + "\n"


def targets(model, content, style):
    with torch.no_grad():
        content_target = model(content, [nh.CONTENT_LAYER])[nh.CONTENT_LAYER]
        grams = {name: nh.gram_matrix(f) for name, f in model(style, nh.STYLE_LAYERS).items()}
    return content_target, grams


def transfer(model, content, style, weights, steps, *, relative=True, grad=True, wrong_tensor=False, sign=1.0,
             clamp=True, attached=False):
    """A learner's style transfer; each keyword switches on one classic mistake."""
    image = content.clone().requires_grad_(grad)
    target, grams = targets(model, image if attached else content, style)
    if attached:
        target = model(image, [nh.CONTENT_LAYER])[nh.CONTENT_LAYER]
    scale = 1 / target.pow(2).mean() if relative else 1.0
    layer_weights = {n: (1 / len(grams)) / (grams[n].pow(2).mean() if relative else 1.0) for n in grams}

    def loss_function(x):
        features = model(x, [nh.CONTENT_LAYER, *nh.STYLE_LAYERS])
        terms = {"content": scale * nh.content_loss(features[nh.CONTENT_LAYER], target),
                 "style": nh.style_loss(features, grams, layer_weights), "tv": nh.tv_loss(x)}
        return {"total": sign * nh.total_loss(terms, weights)}

    optimized = content.clone().requires_grad_(True) if wrong_tensor else image
    optimizer = nh.make_optimizer("lbfgs", optimized, steps)
    optimizer.step(nh.make_closure(image, optimizer, loss_function))
    return image.detach().clamp(0, 1) if clamp else image.detach() * 2 - 0.5


def test_the_learners_transfer_passes(capsys):
    assert checks.check_style_transfer(transfer) is transfer
    assert capsys.readouterr().out.startswith("✅ Correct")


def test_transfer_stub_falls_back_to_the_package(capsys):
    assert checks.check_style_transfer(stub) is nh.textbook_style_transfer
    assert capsys.readouterr().out == checks.NOT_IMPLEMENTED + "\n"


@pytest.mark.parametrize(("mistake", "text"), [
    ({"grad": False}, "requires_grad_(True)"),
    ({"wrong_tensor": True}, "the image never changed"),
    ({"attached": True}, "torch.no_grad() or .detach()"),
    ({"sign": -1.0}, "the loss did not go down"),
    ({"clamp": False}, "outside [0, 1]"),
    ({"relative": False}, "divided by its target's mean square"),
])
def test_broken_transfers_are_told_what_is_wrong(mistake, text, capsys):
    def broken(*args):
        return transfer(*args, **mistake)

    assert checks.check_style_transfer(broken) is nh.textbook_style_transfer
    output = capsys.readouterr().out
    assert output.startswith("❌ style transfer") and output.count("\n") == 1
    assert text in output


def test_transfer_of_the_wrong_shape_or_type(capsys):
    assert checks.check_style_transfer(lambda *args: transfer(*args)[0]) is nh.textbook_style_transfer
    assert "expected the content's (1, 3, 40, 48)" in capsys.readouterr().out
    assert checks.check_style_transfer(lambda *args: transfer(*args).numpy()) is nh.textbook_style_transfer
    assert "returned a ndarray" in capsys.readouterr().out


def test_changing_the_content_in_place_is_caught(capsys):
    def in_place(model, content, style, weights, steps):
        content.requires_grad_(True)
        return transfer(model, content.detach(), style, weights, steps)

    assert checks.check_style_transfer(in_place) is nh.textbook_style_transfer
    assert "optimize a copy" in capsys.readouterr().out
