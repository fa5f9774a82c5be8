"""The textbook losses against hand-computed values, the paper's formulas, and gradcheck in float64."""

import pytest
import torch

from nst_helpers.losses import content_loss, equal_layer_weights, gram_matrix, style_loss, total_loss, tv_loss


def toy_features() -> torch.Tensor:
    """Two channels at two positions: F = [[1, 2], [3, 4]] as a (1, 2, 1, 2) feature map."""
    return torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)


def test_gram_matrix_hand_computed():
    # F F^T = [[1+4, 3+8], [3+8, 9+16]] = [[5, 11], [11, 25]], divided by M = 2 positions.
    expected = torch.tensor([[[2.5, 5.5], [5.5, 12.5]]])
    assert torch.equal(gram_matrix(toy_features()), expected)


def test_gram_matrix_is_symmetric_and_positive_semidefinite():
    features = torch.randn(2, 16, 7, 5, generator=torch.Generator().manual_seed(0))
    gram = gram_matrix(features)
    assert gram.shape == (2, 16, 16)
    assert torch.allclose(gram, gram.transpose(1, 2))
    assert torch.linalg.eigvalsh(gram.double()).min() > -1e-6


def test_gram_matrix_ignores_where_things_are():
    features = torch.randn(1, 8, 6, 6, generator=torch.Generator().manual_seed(1))
    order = torch.randperm(36, generator=torch.Generator().manual_seed(2))
    shuffled = features.reshape(1, 8, 36)[:, :, order].reshape(1, 8, 6, 6)
    assert not torch.allclose(features, shuffled)
    assert torch.allclose(gram_matrix(shuffled), gram_matrix(features), atol=1e-6)


def test_gram_matrix_is_independent_of_image_size():
    """A texture tiled 2x2 has the same Gram matrix: the mean over positions removes the size."""
    features = torch.randn(1, 4, 5, 3, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(gram_matrix(features.repeat(1, 1, 2, 2)), gram_matrix(features), atol=1e-6)


def test_gram_matrix_gradient_hand_computed():
    """d/dF of sum(W * F F^T / M) is (W + W^T) F / M; with W = [[1, 0], [0, 0]] only row 1 of F gets 2 F_1 / 2."""
    features = toy_features().requires_grad_(True)
    upstream = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    (gram_matrix(features) * upstream).sum().backward()
    assert torch.equal(features.grad, torch.tensor([[1.0, 2.0], [0.0, 0.0]]).reshape(1, 2, 1, 2))


def test_content_loss_hand_computed_and_paper_mapping():
    features = torch.tensor([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 2, 2)
    target = torch.zeros_like(features)
    paper = 0.5 * ((features - target) ** 2).sum()  # 1/2 (1 + 4 + 9 + 16) = 15
    assert paper == 15
    assert content_loss(features, target) == pytest.approx(7.5)  # mean = 30 / 4
    n, m = 1, 4
    assert content_loss(features, target) == pytest.approx(float(paper) * 2 / (n * m))


def test_style_loss_is_four_times_the_papers_layer_loss():
    generator = torch.Generator().manual_seed(4)
    generated = torch.randn(1, 3, 4, 5, generator=generator)
    style = torch.randn(1, 3, 4, 5, generator=generator)
    n, m = 3, 20
    g = generated.reshape(n, m) @ generated.reshape(n, m).T  # unnormalized, as in the paper
    a = style.reshape(n, m) @ style.reshape(n, m).T
    paper = ((g - a) ** 2).sum() / (4 * n**2 * m**2)
    ours = style_loss({"relu1_1": generated}, {"relu1_1": gram_matrix(style)}, {"relu1_1": 1.0})
    assert ours.item() == pytest.approx(4 * paper.item(), rel=1e-5)


def test_style_loss_layer_weights():
    f1, f2 = torch.ones(1, 1, 2, 2), 2 * torch.ones(1, 1, 2, 2)
    targets = {"a": torch.zeros(1, 1, 1), "b": torch.zeros(1, 1, 1)}
    features = {"a": f1, "b": f2}
    # Gram of f1 is 1, of f2 is 4: squared differences 1 and 16.
    assert style_loss(features, targets, equal_layer_weights(["a", "b"])).item() == pytest.approx((1 + 16) / 2)
    assert style_loss(features, targets, {"a": 0.25, "b": 2.0}).item() == pytest.approx(0.25 + 32)
    assert style_loss(features, targets, {"b": 1.0}).item() == pytest.approx(16)  # only the layers weighted count
    with pytest.raises(KeyError, match="c"):
        style_loss(features, targets, {"c": 1.0})


def test_style_loss_accepts_different_sizes():
    """Style and generated image may differ in size: Gram matrices are N x N whatever H and W."""
    generated = torch.randn(1, 6, 9, 4)
    style_features = torch.randn(1, 6, 3, 11)
    loss = style_loss({"x": generated}, {"x": gram_matrix(style_features)}, {"x": 1.0})
    assert torch.isfinite(loss) and loss > 0


def test_tv_loss_hand_computed():
    image = torch.tensor([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 1, 2, 2)
    # horizontal differences 1, 1 -> mean square 1; vertical differences 2, 2 -> mean square 4
    assert tv_loss(image).item() == pytest.approx(5.0)
    assert tv_loss(torch.full((1, 3, 8, 8), 0.3)).item() == 0.0


def test_gradients_match_finite_differences():
    generator = torch.Generator().manual_seed(5)

    def rand(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64, requires_grad=True)

    target = torch.randn(1, 3, 4, 4, generator=generator, dtype=torch.float64)
    style_gram = torch.rand(1, 3, 3, generator=generator, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: content_loss(x, target), (rand(1, 3, 4, 4),))
    assert torch.autograd.gradcheck(tv_loss, (rand(1, 3, 4, 5),))
    assert torch.autograd.gradcheck(gram_matrix, (rand(1, 3, 4, 4),))
    assert torch.autograd.gradcheck(lambda x: style_loss({"l": x}, {"l": style_gram}, {"l": 1.0}), (rand(1, 3, 4, 4),))


def test_total_loss_hand_computed():
    terms = {"content": torch.tensor(2.0), "style": torch.tensor(3.0), "tv": torch.tensor(5.0)}
    assert total_loss(terms, {"content": 0.5, "style": 7.0, "tv": 0.1}).item() == pytest.approx(1 + 21 + 0.5)


def test_equal_layer_weights_sum_to_one():
    assert equal_layer_weights(["a", "b", "c", "d"]) == {"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25}
    assert equal_layer_weights({"a": 1.0, "b": 3.0}) == {"a": 0.25, "b": 0.75}


