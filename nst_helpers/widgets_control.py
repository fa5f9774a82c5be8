"""Notebook 07's experiment: the colour mode, and a rectangle set by sliders that is either the region of a second
style or the hole to inpaint (ipywidgets 7 and 8).

Built on :class:`~nst_helpers.experiment.Experiment` (Run and Stop buttons, progress, time estimate, live image,
loss plot, one status line). Before
a run the image shows the content with the rectangle drawn on it, so the sliders can be set by eye.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import torch

from .config import get_profile
from .data import load_example
from .experiment import Experiment, choice_buttons, png_bytes, preview_figure, show_png, wrapping_row
from .images import load_image, resize_longest_side
from .inpainting import inpaint
from .optimize import Callback, Result
from .settings import COLOR_MODES, StyleSettings
from .transfer import stylize

TASKS = ("two styles", "inpaint")
NO_COLOR = "style's colours"


def rectangle_mask(shape: tuple[int, int], top: int, left: int, height: int, width: int) -> torch.Tensor:
    """A (1, 1, H, W) mask, 1 inside the rectangle given in percent of the image's height and width."""
    rows, cols = shape
    mask = torch.zeros(1, 1, rows, cols)
    r0, c0 = round(rows * top / 100), round(cols * left / 100)
    r1, c1 = max(r0 + 1, round(rows * (top + height) / 100)), max(c0 + 1, round(cols * (left + width) / 100))
    mask[..., r0:r1, c0:c1] = 1
    return mask


def _percent_slider(description: str, value: int) -> widgets.IntSlider:
    return widgets.IntSlider(value=value, min=0, max=100, step=5, description=description, continuous_update=False)


class ControlLab(Experiment):
    """Stylize with ``style`` outside the rectangle and ``second_style`` inside it, or inpaint the rectangle."""

    name = "Control lab"

    def __init__(self, content: Any, style: Any, second_style: Any, *, size: int, steps: int,
                 weights: str = "original") -> None:
        self.content, self.styles = load_image(content), [load_image(style), load_image(second_style)]
        self.size, self.steps = size, steps
        self.task_buttons = choice_buttons(TASKS, TASKS[0], "task")
        self.color_buttons = choice_buttons((NO_COLOR, *COLOR_MODES), NO_COLOR, "colours")
        self.sliders = {name: _percent_slider(name, value)
                        for name, value in (("top", 25), ("left", 25), ("height", 50), ("width", 50))}
        for slider in self.sliders.values():
            slider.observe(lambda _change: self.show_rectangle(), names="value")
        sliders = list(self.sliders.values())
        super().__init__([wrapping_row([self.task_buttons, self.color_buttons]), widgets.HBox(sliders[:2]),
                          widgets.HBox(sliders[2:])], weights=weights)
        self.show_rectangle()
        self.watch(self.task_buttons)

    def mask(self) -> torch.Tensor:
        """The rectangle of the sliders at the size of the resized content."""
        shape = resize_longest_side(self.content, self.size).shape[-2:]
        return rectangle_mask(tuple(shape), *(slider.value for slider in self.sliders.values()))

    def show_rectangle(self) -> None:
        """The content with the rectangle lightened, shown until a run replaces it."""
        show_png(self.image_widget, png_bytes(self.marked_content()))

    def marked_content(self) -> torch.Tensor:
        """The resized content with the sliders' rectangle lightened."""
        image = resize_longest_side(self.content, self.size)
        return image + 0.4 * self.mask() * (1 - image)

    def preview(self) -> bytes:
        return preview_figure([("content and rectangle", self.marked_content()), ("style outside", self.styles[0]),
                               ("style inside", self.styles[1])], self.name)

    def settings(self) -> StyleSettings:
        colors = None if self.color_buttons.value == NO_COLOR else self.color_buttons.value
        if self.task_buttons.value == "inpaint":
            return StyleSettings(size=self.size, steps=self.steps, init="noise", content_layer="relu2_1",
                                 weights=self.weights)
        return StyleSettings(size=self.size, steps=self.steps, weights=self.weights, preserve_colors=colors)

    def _optimize(self, settings: StyleSettings, callback: Callback, every: int) -> Result:
        mask = self.mask()
        if self.task_buttons.value == "inpaint":
            return inpaint(resize_longest_side(self.content, self.size), mask, settings=settings, progress=False,
                           callback=callback, every=every)
        return stylize(self.content, self.styles, settings, masks=[1 - mask, mask], progress=False,
                       callback=callback, every=every)


def control_lab(content: Any = "astronaut", style: Any = "swirls", second_style: Any = "mosaic", *,
                size: int | None = None, steps: int | None = None, weights: str = "original") -> ControlLab:
    """Notebook 07's experiment; ``size`` and ``steps`` default to the profile's quick experiments."""
    images = [load_example(item) if isinstance(item, str) else item for item in (content, style, second_style)]
    profile = get_profile()
    return ControlLab(*images, size=size or profile.small_size, steps=steps or profile.small_steps, weights=weights)
