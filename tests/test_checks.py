"""The exercise checkers: the reference passes, a stub falls back to the reference, typical mistakes are named."""

import pytest
import torch
import torch.nn.functional as F

import nst_helpers as nh
from nst_helpers import checks
from nst_helpers.losses import content_loss, gram_matrix, style_loss
from nst_helpers.vgg import LAYER_NAMES


def stub(*args):
    raise NotImplementedError("your code here")


# Reference solutions, written as a learner would.


def extract_features(model, image, layers):
    wanted = set(layers)
    deepest = max(LAYER_NAMES.index(name) for name in wanted)
    features, x = {}, model.preprocess(image)
    for name in LAYER_NAMES[: deepest + 1]:
        x = model.layers[name](x)
        if name in wanted:
            features[name] = x
    return features


def my_gram(features):
    b, n, h, w = features.shape
    flat = features.reshape(b, n, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)


def my_style_loss(features, target_grams, layer_weights):
    return sum(w * ((gram_matrix(features[n]) - target_grams[n]) ** 2).mean() for n, w in layer_weights.items())


def my_total(terms, weights):
    return sum(weights[n] * terms[n] for n in terms)


def my_closure(image, optimizer, loss_function):
    def closure():
        optimizer.zero_grad()
        loss = loss_function(image)["total"]
        loss.backward()
        return loss

    return closure


# Typical wrong answers.


def extract_without_preprocessing(model, image, layers):
    features, x = {}, image
    for name in LAYER_NAMES[: max(LAYER_NAMES.index(n) for n in layers) + 1]:
        x = model.layers[name](x)
        if name in layers:
            features[name] = x
    return features


def extract_with_inplace_relu(model, image, layers):
    features, x = {}, model.preprocess(image)
    for name in LAYER_NAMES[: max(LAYER_NAMES.index(n) for n in layers) + 1]:
        x = F.relu(x, inplace=True) if name.startswith("relu") else model.layers[name](x)
        if name in layers:
            features[name] = x
    return features


def extract_all_the_way(model, image, layers):
    features, x = {}, model.preprocess(image)
    for name, layer in model.layers.items():
        x = layer(x)
        if name in layers:
            features[name] = x
    return features


def extract_without_grad(model, image, layers):
    with torch.no_grad():
        return model(image, layers)


def style_loss_on_features(features, target_grams, layer_weights):
    return sum(w * F.mse_loss(features[n], target_grams[n]) for n, w in layer_weights.items())


def style_loss_unweighted(features, target_grams, layer_weights):
    return sum(F.mse_loss(gram_matrix(features[n]), target_grams[n]) for n in layer_weights)


def style_loss_paper_factor(features, target_grams, layer_weights):
    return my_style_loss(features, target_grams, layer_weights) / 4


def style_loss_over_features(features, target_grams, layer_weights):
    return sum(layer_weights[n] * F.mse_loss(gram_matrix(f), target_grams[n]) for n, f in features.items())


def closure_without_zero_grad(image, optimizer, loss_function):
    def closure():
        loss = loss_function(image)["total"]
        loss.backward()
        return loss

    return closure


def closure_without_backward(image, optimizer, loss_function):
    def closure():
        optimizer.zero_grad()
        return loss_function(image)["total"]

    return closure


def closure_without_return(image, optimizer, loss_function):
    def closure():
        optimizer.zero_grad()
        loss_function(image)["total"].backward()

    return closure


def closure_called(image, optimizer, loss_function):
    return my_closure(image, optimizer, loss_function)()


CASES = {
    # checker: (reference solution, expected fallback, [(wrong answer, text the message must contain), ...])
    "check_extract_features": (extract_features, checks.extract_features, [
        (extract_without_preprocessing, "missing preprocessing"),
        (extract_with_inplace_relu, "in-place ReLU"),
        (extract_without_grad, "cut off from autograd"),
        (lambda model, image, layers: model(image, layers[:2]), "missing from the dict"),
    ]),
    "check_content_loss": (lambda f, t: ((f - t) ** 2).mean(), content_loss, [
        (lambda f, t: ((f - t) ** 2).sum(), "sum instead of mean"),
        (lambda f, t: 0.5 * ((f - t) ** 2).sum(), "the paper's 1/2 sum (F-P)^2: here we use the mean"),
        (lambda f, t: (f - t).abs().mean(), "missing square"),
        (lambda f, t: ((f - t) ** 2).mean().item(), "not a tensor"),
        (lambda f, t: (f - t) ** 2, "instead of one number"),
    ]),
    "check_gram_matrix": (my_gram, gram_matrix, [
        (lambda f: my_gram(f) * f.shape[2] * f.shape[3], "not normalized: your values are H*W = 12 times"),
        (lambda f: my_gram(f.transpose(1, 3).reshape(f.shape[0], -1, f.shape[1], 1)), "transposed"),
        (lambda f: my_gram(f) / f.shape[1], "normalized by N*M instead of M"),
        (lambda f: my_gram(f)[0], "wrong shape"),
    ]),
    "check_style_loss": (my_style_loss, style_loss, [
        (style_loss_unweighted, "layer weights ignored"),
        (style_loss_on_features, "compared features instead of Gram matrices"),
        (style_loss_paper_factor, "the paper's 1/(4 N^2 M^2) factor"),
        (style_loss_over_features, "loop over layer_weights"),
    ]),
    "check_total_loss": (my_total, checks.total_loss, [
        (lambda terms, weights: sum(terms.values()), "weights ignored"),
        (lambda terms, weights: weights["content"] * terms["content"] + weights["style"] * terms["style"],
         "forgot the 'tv' term"),
        (lambda terms, weights: {n: weights[n] * terms[n] for n in terms}, "returned a dict"),
    ]),
    "check_closure": (my_closure, checks.make_closure, [
        (closure_without_zero_grad, "forgot zero_grad (gradients accumulate: the second call's gradient is twice"),
        (closure_without_backward, "forgot backward"),
        (closure_without_return, "did not return the loss"),
        (closure_called, "returned the loss instead of the closure"),
    ]),
}

WRONG_CASES = [(checker, wrong, text) for checker, (_, _, wrongs) in CASES.items() for wrong, text in wrongs]


@pytest.mark.parametrize("checker", CASES)
def test_reference_solution_passes(checker, capsys):
    solution = CASES[checker][0]
    assert getattr(checks, checker)(solution) is solution
    output = capsys.readouterr().out
    assert output.startswith("✅ Correct") and output.count("\n") == 1


@pytest.mark.parametrize("checker", CASES)
def test_package_reference_passes_its_own_checker(checker, capsys):
    reference = CASES[checker][1]
    assert getattr(checks, checker)(reference) is reference
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize("checker", CASES)
def test_stub_falls_back_to_the_reference(checker, capsys):
    assert getattr(checks, checker)(stub) is CASES[checker][1]
    assert capsys.readouterr().out == checks.NOT_IMPLEMENTED + "\n"


@pytest.mark.parametrize(("checker", "wrong", "text"), WRONG_CASES, ids=[f"{c}-{t[:24]}" for c, _, t in WRONG_CASES])
def test_typical_mistake_is_named(checker, wrong, text, capsys):
    assert getattr(checks, checker)(wrong) is CASES[checker][1]
    output = capsys.readouterr().out
    assert output.startswith("❌ ") and output.count("\n") == 1
    assert text in output


def test_unknown_mistake_still_fails_with_the_reference_returned(capsys):
    assert checks.check_gram_matrix(lambda f: my_gram(f) + 1.0) is gram_matrix
    assert "wrong values" in capsys.readouterr().out


def test_an_exception_is_reported_not_raised(capsys):
    def broken(features, target):
        return features @ target  # shapes do not allow a matrix product

    assert checks.check_content_loss(broken) is content_loss
    assert "raised RuntimeError" in capsys.readouterr().out


def test_extractor_that_does_not_stop_early_is_correct_but_told(capsys):
    assert checks.check_extract_features(extract_all_the_way) is extract_all_the_way
    output = capsys.readouterr().out
    assert output.startswith("✅") and "ran on to pool5" in output


def test_checked_functions_give_the_same_numbers_as_the_package():
    features = torch.randn(1, 8, 5, 6, generator=torch.Generator().manual_seed(7))
    assert torch.allclose(checks.check_gram_matrix(stub)(features), gram_matrix(features))
    image = torch.zeros(1, 3, 2, 2, requires_grad=True)
    closure = checks.check_closure(stub)(image, torch.optim.SGD([image], lr=0.1),
                                         lambda x: {"total": ((x - 1) ** 2).sum()})
    assert closure().item() == 12.0 and torch.equal(image.grad, torch.full_like(image, -2.0))


@pytest.mark.parametrize(
    ("check", "public_name"),
    [
        (checks.check_extract_features, "extract_features"),
        (checks.check_content_loss, "content_loss"),
        (checks.check_gram_matrix, "gram_matrix"),
        (checks.check_style_loss, "style_loss"),
    ],
)
def test_a_wrong_or_missing_answer_hands_back_the_public_function_itself(check, public_name, capsys):
    """Notebooks 01-03 print which function ran by testing ``fn is nh.<name>``: that needs the very same object."""
    def missing(*args):
        raise NotImplementedError

    def wrong(*args):
        return torch.zeros(())

    assert check(missing) is getattr(nh, public_name)
    assert check(wrong) is getattr(nh, public_name)
    right = getattr(nh, public_name)
    assert check(lambda *args: right(*args)) is not getattr(nh, public_name)
    assert capsys.readouterr().out.count("✅") == 1
