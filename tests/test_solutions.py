"""Every <details> solution in the notebooks runs, and each solution function equals the package's textbook function
in value and gradient: the code a learner writes is the code they import."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import nst_helpers as nh
from nst_helpers.control import match_statistics
from nst_helpers.guided import guided_gram
from nst_helpers.statistics import mean_std, random_directions, sliced_wasserstein

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOLUTION = re.compile(r"<details><summary>Solution</summary>\s*```python\n(.*?)```", re.DOTALL)
PACKAGE_FUNCTION = {  # the name a solution defines -> the package function it must equal
    "extract_features": nh.extract_features, "my_content_loss": nh.content_loss, "my_gram_matrix": nh.gram_matrix,
    "my_style_loss": nh.style_loss, "my_total_loss": nh.total_loss, "my_make_closure": nh.make_closure,
    "my_tv_loss": nh.tv_loss, "my_style_transfer": nh.textbook_style_transfer,
    "match_statistics": match_statistics, "guided_gram": lambda features, mask: guided_gram(features, mask, True),
    "my_mean_std": mean_std, "my_sliced_wasserstein": sliced_wasserstein,
}


def solutions() -> list[tuple[str, str]]:
    found = []
    for path in sorted(NOTEBOOKS.glob("0[1-8]_*.ipynb")):
        for index, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "markdown":
                found += [(f"{path.stem}[{index}]", code) for code in SOLUTION.findall("".join(cell["source"]))]
    return found


FUNCTIONS = {name: code for name, code in solutions() if code.lstrip().startswith("def ")}
OPEN = {name: code for name, code in solutions() if name not in FUNCTIONS}


def defined(code: str) -> tuple[str, object]:
    """Run a solution in a namespace with the notebooks' imports; return the function it defines."""
    namespace = {"nh": nh, "torch": torch}
    for name in PACKAGE_FUNCTION:  # a later solution may call an earlier one (my_style_loss calls my_gram_matrix)
        namespace[name] = PACKAGE_FUNCTION[name]
    exec(code, namespace)
    (name,) = re.findall(r"^def (\w+)", code, re.MULTILINE)
    return name, namespace[name]


def test_every_solution_function_has_its_package_twin():
    names = {defined(code)[0] for code in FUNCTIONS.values()}
    assert names == set(PACKAGE_FUNCTION), "a notebook solution has no package function to compare with"


def random_input(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).requires_grad_(True)


def same_value_and_gradient(mine, reference, inputs):
    assert torch.allclose(mine, reference, rtol=1e-10, atol=1e-12)
    mine_grads = torch.autograd.grad(mine.sum(), inputs, retain_graph=True)
    for got, want in zip(mine_grads, torch.autograd.grad(reference.sum(), inputs, retain_graph=True),
                         strict=True):
        assert torch.allclose(got, want, rtol=1e-10, atol=1e-12)


def run_case(name, fn):
    """Call the solution and the package function on the same inputs; compare value and gradient."""
    twin = PACKAGE_FUNCTION[name]
    if name == "extract_features":
        model, image = nh.load_vgg().double(), random_input(1, 3, 32, 32)
        layers = ["conv1_1", "relu2_1", "conv4_2", "relu4_2"]
        mine, reference = fn(model, image, layers), twin(model, image, layers)
        assert set(mine) == set(layers)
        for layer in layers:
            same_value_and_gradient(mine[layer], reference[layer], [image])
    elif name in ("my_content_loss", "my_gram_matrix"):
        first = random_input(2, 4, 3, 5)
        args = (first, random_input(2, 4, 3, 5, seed=1)) if name == "my_content_loss" else (first,)
        same_value_and_gradient(fn(*args), twin(*args), [first])
    elif name == "my_style_loss":
        features = {"a": random_input(1, 3, 4, 4), "b": random_input(1, 5, 2, 3, seed=1)}
        targets = {k: nh.gram_matrix(random_input(*f.shape, seed=2)).detach() for k, f in features.items()}
        weights = {"a": 0.25, "b": 0.75}
        same_value_and_gradient(fn(features, targets, weights), twin(features, targets, weights),
                                list(features.values()))
    elif name == "my_tv_loss":
        image = random_input(1, 3, 5, 6)
        same_value_and_gradient(fn(image), twin(image), [image])
    elif name == "my_style_transfer":
        compare_transfers(fn, twin)
    elif name in ("match_statistics", "guided_gram", "my_mean_std", "my_sliced_wasserstein"):
        compare_statistics(name, fn, twin)
    elif name == "my_total_loss":
        terms = {k: random_input(1, seed=i).sum() for i, k in enumerate(("content", "style", "tv"))}
        weights = {"content": 1.0, "style": 30.0, "tv": 10.0}
        same_value_and_gradient(fn(terms, weights), twin(terms, weights), list(terms.values()))
    else:
        compare_closures(fn, twin)


def compare_statistics(name, mine, reference):
    """Notebooks 07 and 08: lightness matching, the guided Gram matrix, mean/std and sliced Wasserstein."""
    first = random_input(1, 3, 4, 5)
    if name == "match_statistics":
        args = (first, 50 + 10 * random_input(70, seed=1))
    elif name == "guided_gram":
        args = (first, random_input(1, 1, 4, 5, seed=1).detach())  # a soft mask: tells m from m**2
    elif name == "my_mean_std":
        args = (first,)
    else:
        flat, target = random_input(1, 3, 20), 2 * random_input(1, 3, 20, seed=1).detach() + 1
        first, args = flat, (flat, target, random_directions(3, 6, torch.Generator().manual_seed(2)))
    same_value_and_gradient(mine(*args), reference(*args), [first])


def compare_transfers(mine, reference):
    """The learner's whole style transfer returns the image the package's textbook loop returns."""
    model = nh.load_vgg()
    generator = torch.Generator().manual_seed(0)
    content, style = torch.rand(1, 3, 32, 40, generator=generator), torch.rand(1, 3, 40, 40, generator=generator)
    weights = {"content": 1.0, "style": 30.0, "tv": 10.0}
    got, want = mine(model, content, style, weights, 5), reference(model, content, style, weights, 5)
    assert got.shape == content.shape and not torch.equal(want, content)
    assert torch.allclose(got, want, atol=1e-4)


def compare_closures(mine, reference):
    target = torch.linspace(-1, 1, 12, dtype=torch.float64).reshape(1, 3, 2, 2)
    results = []
    for make in (mine, reference):
        image = torch.zeros(1, 3, 2, 2, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.SGD([image], lr=0.1)
        closure = make(image, optimizer, lambda x: {"total": ((x - target) ** 2).sum()})
        results.append((closure().detach(), closure().detach(), image.grad.clone()))  # twice: zero_grad matters
    for got, want in zip(*results, strict=True):
        assert torch.allclose(got, want)


@pytest.mark.parametrize("where", sorted(FUNCTIONS))
def test_solution_equals_the_package_function(where):
    run_case(*defined(FUNCTIONS[where]))


def notebook_context(where: str) -> dict:
    """What an open exercise's cell finds defined by the cells above it, at the tiny profile with 2 steps."""
    profile = nh.get_profile("tiny")
    context = {"nh": nh, "plots": nh.plots, "SIZE": profile.size, "STEPS": 2, "SMALL_SIZE": profile.small_size,
               "SMALL_STEPS": 2}
    if where.startswith("07_"):  # section 2: swirls on the background, mosaic on a rectangle standing for the person
        content = nh.resize_longest_side(nh.load_example("astronaut"), profile.small_size)
        swirls, mosaic = nh.load_example("swirls"), nh.load_example("mosaic")
        quick = {"size": profile.small_size, "steps": 2, "progress": False}
        person = np.zeros(content.shape[-2:], dtype=bool)
        person[content.shape[-2] // 4:, content.shape[-1] // 4: 3 * content.shape[-1] // 4] = True
        regions = nh.stylize(content, [swirls, mosaic], masks=[~person, person], **quick)
        context.update(content=content, swirls=swirls, mosaic=mosaic, quick=quick, person=person, regions=regions)
    return context


@pytest.mark.parametrize("where", sorted(OPEN))
def test_open_solution_runs(where, tmp_path, monkeypatch):
    """The open exercises (05: a photo of one's own; 07: soft masks) run as written, with what the cells above them
    define."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outputs").mkdir()
    nh.save_image(nh.load_example("coffee", max_size=96), tmp_path / "my_photo.jpg")
    shown = []
    namespace = {**notebook_context(where), "display": shown.append}
    exec(OPEN[where], namespace)
    assert shown, "the solution shows its result"
