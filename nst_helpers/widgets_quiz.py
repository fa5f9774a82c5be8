"""A two-choice test for people: "which patch is from the painting?" (notebook 08).

Each round shows two square patches side by side, one cut from the style image and one from a result, in random
order. The learner clicks the one they think is from the painting and is told whether they were right. A method that
copies the style well scores near 50% (chance); one that does not is easy to spot. Rounds are drawn from the quiz's
own seeded generator. Works with ipywidgets 7 and 8 and needs no network.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as w
import torch

from .errors import ImageError, SettingsError
from .experiment import FirstView, preview_figure
from .images import tensor_to_pil


@dataclass(frozen=True)
class Round:
    """One question: the two patches as shown, and which one (0: left, 1: right) is from the painting."""

    patches: tuple[torch.Tensor, torch.Tensor]
    answer: int
    source: str  # the label of the result the other patch came from


def random_patch(image: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """A ``size`` x ``size`` crop of a (1, 3, H, W) image at a random position."""
    height, width = image.shape[-2:]
    if min(height, width) < size:
        raise ImageError(f"a patch of {size} px does not fit in an image of {height} x {width}; choose a smaller patch")
    top = int(torch.randint(height - size + 1, (1,), generator=generator))
    left = int(torch.randint(width - size + 1, (1,), generator=generator))
    return image[..., top : top + size, left : left + size]


def draw_rounds(
    painting: torch.Tensor, results: dict[str, torch.Tensor], rounds: int, size: int, seed: int = 0
) -> list[Round]:
    """``rounds`` questions, cycling through ``results``; the painting's side is a fair coin for each."""
    generator = torch.Generator().manual_seed(seed)
    names = list(results)
    questions = []
    for index in range(rounds):
        name = names[index % len(names)]
        real, fake = random_patch(painting, size, generator), random_patch(results[name], size, generator)
        answer = int(torch.randint(2, (1,), generator=generator))
        questions.append(Round((real, fake) if answer == 0 else (fake, real), answer, name))
    return questions


def png_bytes(image: torch.Tensor, scale: int) -> bytes:
    """A (1, 3, h, w) patch as PNG bytes, enlarged ``scale`` times with visible pixels (nearest neighbour)."""
    picture = tensor_to_pil(image)
    picture = picture.resize((picture.width * scale, picture.height * scale), resample=0)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


class QuizView(FirstView, w.VBox):
    """The quiz's box; before its cell runs, a notebook shows a picture of the first round instead of widget text."""

    name = "Patch quiz"

    def __init__(self, children: Sequence[w.Widget], first: Round) -> None:
        super().__init__(children=list(children))
        self.first = first

    def preview(self) -> bytes:
        return preview_figure([("left", self.first.patches[0]), ("right", self.first.patches[1])], self.name)


class PatchQuiz:
    """The widget: two patch images, two buttons, a verdict line and the running score per result."""

    def __init__(self, questions: Sequence[Round], scale: int = 3) -> None:
        self.questions, self.scale, self.index = list(questions), scale, 0
        self.correct: dict[str, list[bool]] = {}
        self.images = [w.Image(format="png"), w.Image(format="png")]
        self.buttons = [w.Button(description="left is the painting"), w.Button(description="right is the painting")]
        for choice, button in enumerate(self.buttons):
            button.on_click(lambda _, choice=choice: self.choose(choice))
        self.verdict, self.score = w.HTML(), w.HTML()
        self.widget = QuizView([w.HBox(self.images), w.HBox(self.buttons), self.verdict, self.score], self.questions[0])
        self.show()

    def show(self) -> None:
        """Put the current round's patches on screen (or the final score)."""
        if self.index >= len(self.questions):
            for button in self.buttons:
                button.disabled = True
            self.verdict.value = f"<b>Done.</b> {self.summary()}"
            return
        for image, patch in zip(self.images, self.questions[self.index].patches, strict=True):
            image.value = png_bytes(patch, self.scale)

    def choose(self, choice: int) -> None:
        """Record the learner's answer to the current round and move on."""
        if self.index >= len(self.questions):
            return
        question = self.questions[self.index]
        right = choice == question.answer
        self.correct.setdefault(question.source, []).append(right)
        side = "left" if question.answer == 0 else "right"
        self.verdict.value = f"{'Right' if right else 'Wrong'}: the painting was on the {side}; the other came from " \
                             f"<i>{question.source}</i>."
        self.index += 1
        self.score.value = self.summary()
        self.show()

    def summary(self) -> str:
        """Correct answers per result: near 50% means you could not tell that result from the painting."""
        parts = [f"{name}: {sum(marks)} of {len(marks)}" for name, marks in self.correct.items()]
        return "Spotted the painting - " + ", ".join(parts) if parts else ""


def patch_quiz(
    painting: torch.Tensor, results: dict[str, torch.Tensor], rounds: int = 10, size: int = 32, seed: int = 0,
) -> PatchQuiz:
    """A :class:`PatchQuiz` of ``rounds`` questions; show it with ``display(quiz.widget)``."""
    if not results:
        raise SettingsError("patch_quiz needs at least one result to compare with the painting")
    if rounds < 1:
        raise SettingsError(f"rounds must be at least 1, got {rounds}")
    return PatchQuiz(draw_rounds(painting, results, rounds, size, seed))
