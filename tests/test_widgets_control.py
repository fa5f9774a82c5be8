"""Notebook 07's control lab, driven like a learner: colour mode, task, rectangle sliders, Run (ipywidgets 7 and 8)."""

import io

import torch
from PIL import Image

from nst_helpers import widgets_control
from nst_helpers.optimize import Result
from nst_helpers.widgets_control import ControlLab, rectangle_mask


def picture(height: int, width: int, seed: int) -> torch.Tensor:
    return torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(seed))


def test_rectangle_mask_in_percent():
    mask = rectangle_mask((4, 8), top=25, left=50, height=50, width=25)
    expected = torch.zeros(1, 1, 4, 8)
    expected[..., 1:3, 4:6] = 1
    assert torch.equal(mask, expected)
    assert rectangle_mask((4, 8), 100, 100, 0, 0).sum() == 0  # nothing past the image's edge


def test_sliders_move_the_preview_rectangle():
    lab = ControlLab(picture(30, 40, 0), picture(32, 32, 1), picture(32, 32, 2), size=40, steps=2)
    first = bytes(lab.image_widget.value)
    assert Image.open(io.BytesIO(first)).size == (40, 30)
    lab.sliders["left"].value = 0
    assert bytes(lab.image_widget.value) != first
    assert lab.mask()[..., :, 0].sum() > 0


def test_run_passes_colour_mode_masks_or_hole(monkeypatch):
    calls = []

    def fake(name):
        def run(*args, **kwargs):
            calls.append((name, args, kwargs))
            image = torch.zeros(1, 3, 30, 40)
            return Result(image=image, history={"total": [1.0]}, frames=[], seconds=0.0,
                          settings=kwargs.get("settings", args[2] if len(args) > 2 else None), steps_done=1)
        return run

    monkeypatch.setattr(widgets_control, "stylize", fake("stylize"))
    monkeypatch.setattr(widgets_control, "inpaint", fake("inpaint"))
    lab = ControlLab(picture(30, 40, 0), picture(32, 32, 1), picture(32, 32, 2), size=40, steps=2)
    lab.color_buttons.value = "luminance"
    lab.run_button.click()
    name, args, kwargs = calls[-1]
    assert name == "stylize" and args[2].preserve_colors == "luminance"
    inside, outside = kwargs["masks"][1], kwargs["masks"][0]
    assert torch.equal(inside, lab.mask()) and torch.equal(outside, 1 - lab.mask())
    lab.task_buttons.value = "inpaint"
    lab.run_button.click()
    name, args, kwargs = calls[-1]
    assert name == "inpaint" and torch.equal(args[1], lab.mask()) and kwargs["settings"].init == "noise"
    assert lab.runs == 2 and lab.status_text.startswith("Done")
