"""The paper's own sums (nst_helpers/paper.py): hand-computed values and their exact relation to the course's means."""

import torch

import nst_helpers as nh
from nst_helpers.paper import PaperObjective, paper_content_loss, paper_gram_matrix, paper_layer_style_loss


def test_content_loss_is_half_the_sum_of_squares():
    features, target = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), torch.zeros(1, 1, 2, 2)
    assert paper_content_loss(features, target).item() == 0.5 * (1 + 4 + 9 + 16)


def test_gram_is_a_sum_over_positions_and_style_loss_has_the_paper_factor():
    features = torch.tensor([[[[1.0, 2.0]], [[3.0, 0.0]]]])  # N = 2 channels, M = 2 positions
    gram = paper_gram_matrix(features)
    assert torch.equal(gram, torch.tensor([[5.0, 3.0], [3.0, 9.0]]))
    target = torch.zeros(2, 2)
    expected = (25 + 9 + 9 + 81) / (4 * 2**2 * 2**2)
    assert abs(paper_layer_style_loss(features, target).item() - expected) < 1e-6


def test_paper_sums_relate_to_the_course_means_as_documented():
    generator = torch.Generator().manual_seed(0)
    features, other = torch.rand(1, 4, 3, 5, generator=generator), torch.rand(1, 4, 3, 5, generator=generator)
    channels, positions = 4, 15
    course_content = nh.content_loss(features, other)
    assert torch.allclose(paper_content_loss(features, other), course_content * channels * positions / 2)
    course_layer = nh.style_loss({"a": features}, {"a": nh.gram_matrix(other)}, {"a": 1.0})
    paper_layer = paper_layer_style_loss(features, paper_gram_matrix(other))
    assert torch.allclose(course_layer, 4 * paper_layer)


def test_objective_weights_the_terms_and_averages_the_layers():
    model = nh.load_vgg()
    generator = torch.Generator().manual_seed(1)
    photo, painting, image = (torch.rand(1, 3, 32, 32, generator=generator) for _ in range(3))
    objective = PaperObjective(model, photo, painting, alpha=2.0, beta=10.0)
    losses = objective(image)
    with torch.no_grad():
        features = model(image, [nh.CONTENT_LAYER, *nh.STYLE_LAYERS])
        style_features = model(painting, nh.STYLE_LAYERS)
        content = paper_content_loss(features[nh.CONTENT_LAYER], model(photo, [nh.CONTENT_LAYER])[nh.CONTENT_LAYER])
        style = sum(paper_layer_style_loss(features[n], paper_gram_matrix(style_features[n]))
                    for n in nh.STYLE_LAYERS) / 5
    assert torch.allclose(losses["content"], 2.0 * content) and torch.allclose(losses["style"], 10.0 * style, rtol=1e-4)
    assert torch.allclose(losses["total"], losses["content"] + losses["style"])
    assert torch.equal(objective(photo)["content"], torch.zeros(()))
