"""The patch quiz, clicked like a learner clicks it. Runs under ipywidgets 8 and 7 (CI runs this file twice)."""

import io

import ipywidgets
import numpy as np
import pytest
import torch
from PIL import Image

from nst_helpers.errors import ImageError, SettingsError
from nst_helpers.widgets_quiz import draw_rounds, patch_quiz, random_patch

PAINTING = torch.zeros(1, 3, 40, 50)
RESULTS = {"gram": torch.ones(1, 3, 30, 30), "meanstd": torch.full((1, 3, 36, 36), 0.5)}


def shown(image_widget: ipywidgets.Image) -> torch.Tensor:
    picture = Image.open(io.BytesIO(bytes(image_widget.value)))
    assert picture.format == "PNG"
    return torch.from_numpy(np.asarray(picture, dtype=np.float32))


def test_rounds_are_seeded_fair_and_cycle_through_the_results():
    state = torch.get_rng_state()
    rounds = draw_rounds(PAINTING, RESULTS, rounds=40, size=8, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    assert [r.source for r in rounds[:4]] == ["gram", "meanstd", "gram", "meanstd"]
    for question in rounds:
        painting_side = question.patches[question.answer]
        assert painting_side.shape == (1, 3, 8, 8) and painting_side.max() == 0  # the painting is black here
        assert question.patches[1 - question.answer].min() > 0
    assert 10 < sum(r.answer for r in rounds) < 30  # both sides occur
    again = draw_rounds(PAINTING, RESULTS, rounds=40, size=8, seed=3)
    assert [r.answer for r in again] == [r.answer for r in rounds]


def test_clicking_scores_each_result_and_ends_the_quiz():
    quiz = patch_quiz(PAINTING, RESULTS, rounds=4, size=8, seed=1)
    assert isinstance(quiz.widget, ipywidgets.VBox)
    answers = [q.answer for q in quiz.questions]
    first = quiz.questions[0]
    assert shown(quiz.images[first.answer]).max() == 0 and shown(quiz.images[1 - first.answer]).min() > 0
    quiz.buttons[answers[0]].click()  # right
    assert quiz.verdict.value.startswith("Right")
    quiz.buttons[1 - answers[1]].click()  # wrong
    assert quiz.verdict.value.startswith("Wrong")
    quiz.buttons[answers[2]].click()
    quiz.buttons[answers[3]].click()
    assert quiz.correct == {"gram": [True, True], "meanstd": [False, True]}
    assert "gram: 2 of 2" in quiz.score.value and "meanstd: 1 of 2" in quiz.score.value
    assert all(button.disabled for button in quiz.buttons) and "Done" in quiz.verdict.value
    quiz.buttons[0].click()  # after the end a click changes nothing
    assert quiz.correct == {"gram": [True, True], "meanstd": [False, True]}


def test_a_patch_larger_than_an_image_is_refused_in_one_line():
    with pytest.raises(ImageError, match="does not fit") as caught:
        random_patch(torch.zeros(1, 3, 10, 40), 16, torch.Generator())
    assert "\n" not in str(caught.value)
    with pytest.raises(ValueError, match="at least one result"):
        patch_quiz(PAINTING, {})


def test_first_view_is_a_picture_of_the_first_round_and_a_line_of_text():
    painting = torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(1))
    quiz = patch_quiz(painting, {"noise": torch.zeros(1, 3, 40, 40)}, rounds=2, size=16)
    bundle = quiz.widget._repr_mimebundle_()
    assert bundle["image/png"].startswith(b"\x89PNG")
    assert bundle["text/plain"] == "Patch quiz: an interactive experiment (run this cell to use it)"
    with pytest.raises(SettingsError, match="rounds must be at least 1"):
        patch_quiz(painting, {"noise": painting}, rounds=0)
