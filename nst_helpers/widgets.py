"""Interactive experiments for the notebooks, built from ipywidgets (works with ipywidgets 7 and 8).

- :func:`feature_map_explorer` (notebook 01): pick an image, a layer and a channel, or a page of 16 channels.
- :func:`style_layer_explorer` (notebook 03): choose the style layers and their weights, synthesize a texture, and
  compare Gram matrices.
- :func:`loss_lab` (notebook 04): the content/style ratio, TV weight, size, steps, init and optimizer, with a live
  image and loss plot.
- :func:`studio` (notebook 05): examples or your own uploaded images, the main settings, Run, Stop and Save.

Each experiment is a ``VBox`` whose controls are attributes, so code can drive it like a learner does: set
``lab.steps_slider.value = 20``, then call ``lab.run_button.click()``. Only a button starts an optimization. It runs
in the kernel while the widgets update; the experiment's Stop button or the notebook's stop button ends it, and the
best image so far is kept. What they share (status line, estimate, first view) is in :mod:`nst_helpers.experiment`.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from .config import get_profile
from .data import load_example
from .errors import ImageError, NSTError, SettingsError
from .experiment import (
    Experiment,
    FirstView,
    call_interruptibly,
    choice_buttons,
    image_widget,
    loss_figure,
    png_bytes,
    preview_figure,
    show_png,
    status_html,
    tagged,
    wrapping_row,
)
from .images import load_image, load_image_bytes, resize_longest_side, save_image, tensor_to_pil
from .losses import gram_matrix
from .optimize import Callback, Result
from .plots import feature_maps, gram_heatmaps
from .settings import INITS, OPTIMIZERS, StyleSettings
from .transfer import TEXTURE, stylize, synthesize_texture
from .vgg import LAYER_NAMES, STYLE_LAYERS, load_vgg

__all__ = [
    "Experiment",
    "FeatureMapExplorer",
    "LossLab",
    "Studio",
    "StyleLayerExplorer",
    "call_interruptibly",
    "feature_map_explorer",
    "file_stem",
    "loss_figure",
    "loss_lab",
    "png_bytes",
    "studio",
    "style_layer_explorer",
    "upload_name",
    "uploaded_files",
]

PAGE = 16  # channels on one page of the feature map explorer
MAX_UPLOAD_BYTES = 20 * 2**20  # larger uploads are refused before decoding; images.MAX_PIXELS limits the pixels
UPLOAD_PREFIX = "upload: "  # uploads are offered as "upload: NAME", apart from the shipped examples
MAX_NAME_CHARS = 60  # of an upload's name as shown, and of each part of a saved file's name
ROW = widgets.Layout(width="480px", max_width="100%")  # a slider on its own row: room for its track and readout


def _weight_slider(description: str, default: float, decades: int = 3) -> widgets.FloatLogSlider:
    """A log-scale slider spanning ``decades`` powers of ten either side of ``default``."""
    centre = math.log10(default)
    return widgets.FloatLogSlider(
        value=default, base=10, min=centre - decades, max=centre + decades, step=0.25, description=description,
        readout_format=".2g", continuous_update=False, style={"description_width": "150px"}, layout=ROW,
    )


def _int_slider(description: str, value: int, low: int, high: int, step: int = 1) -> widgets.IntSlider:
    return widgets.IntSlider(value=value, min=low, max=max(high, value), step=step, description=description,
                             continuous_update=False, style={"description_width": "150px"}, layout=ROW)


def _size_slider(size: int) -> widgets.IntSlider:
    """The result's longest side in pixels, in steps of 32."""
    return _int_slider("size (px)", size, 32, 1024, 32)


def _steps_slider(steps: int) -> widgets.IntSlider:
    """Room for a visible result even from the tiny profile's handful of steps."""
    return _int_slider("steps", steps, 1, max(4 * steps, 100))


def uploaded_files(upload: widgets.FileUpload | Mapping | Sequence) -> list[tuple[str, bytes]]:
    """``[(file name, content)]`` from a ``FileUpload`` or its ``value``, in the shape of ipywidgets 7 or 8.

    ipywidgets 7: ``{name: {"metadata": {...}, "content": bytes}}``;
    ipywidgets 8: ``({"name": name, "content": memoryview, "type": ..., "size": ...}, ...)``.
    """
    value = upload.value if isinstance(upload, widgets.FileUpload) else upload
    if isinstance(value, Mapping):
        return [(name, bytes(item["content"])) for name, item in value.items()]
    return [(item["name"], bytes(item["content"])) for item in value]


def clear_upload(upload: widgets.FileUpload) -> None:
    """Empty a ``FileUpload`` so its button's count says 0 again (the files went into the dropdown, or were refused)."""
    if isinstance(upload.value, Mapping):  # ipywidgets 7 counts in _counter and keeps the files in data
        upload.metadata, upload.data = [], []
        upload._counter = 0
    else:
        upload.value = ()


class LossLab(Experiment):
    """Notebook 04: how the content/style ratio, TV weight, size, steps, init and optimizer change a stylization."""

    name = "Loss lab"

    def __init__(self, content: Any, style: Any, *, size: int, steps: int, weights: str = "original") -> None:
        self.content, self.style = load_image(content), load_image(style)
        defaults = StyleSettings()
        default_ratio = defaults.content_weight / defaults.style_weight
        self.ratio_slider = tagged(_weight_slider("content/style ratio α/β", default_ratio), "nst-ratio-slider")
        self.tv_slider = tagged(_weight_slider("TV weight", defaults.tv_weight), "nst-tv-slider")
        self.size_slider = tagged(_size_slider(size), "nst-size-slider")
        self.steps_slider = tagged(_steps_slider(steps), "nst-steps-slider")
        self.init_buttons = choice_buttons(INITS[:3], "content", "init")  # the three of notebook 04
        self.optimizer_buttons = choice_buttons(OPTIMIZERS, "lbfgs", "optimizer")
        controls = [self.ratio_slider, self.tv_slider, self.size_slider, self.steps_slider,
                    wrapping_row([self.init_buttons, self.optimizer_buttons])]
        super().__init__(controls, weights=weights)
        show_png(self.image_widget, png_bytes(resize_longest_side(self.content, size)))  # until the first run
        self.watch(self.size_slider, self.steps_slider, self.optimizer_buttons)

    def settings(self) -> StyleSettings:
        return StyleSettings(
            style_weight=StyleSettings().content_weight / self.ratio_slider.value, tv_weight=self.tv_slider.value,
            steps=self.steps_slider.value, init=self.init_buttons.value, optimizer=self.optimizer_buttons.value,
            size=self.size_slider.value, weights=self.weights,
        )

    def _optimize(self, settings: StyleSettings, callback: Callback, every: int) -> Result:
        return stylize(self.content, self.style, settings, progress=False, callback=callback, every=every)

    def preview(self) -> bytes:
        return preview_figure([("content", self.content), ("style", self.style)], self.name)


class StyleLayerExplorer(Experiment):
    """Notebook 03: which layers' Gram matrices, with which weights, make a texture; and what a Gram matrix shows."""

    name = "Style-layer explorer"
    loss_terms = ("style",)  # the range penalty is notebook 04's subject

    def __init__(
        self, style: Any, *, size: int, steps: int, layers: Sequence[str] = STYLE_LAYERS, weights: str = "original"
    ) -> None:
        self.style_image = load_image(style)
        self.model = load_vgg(weights)
        self.layer_checkboxes = {name: widgets.Checkbox(value=True, description=name, indent=False,
                                                        layout=widgets.Layout(width="90px")) for name in layers}
        self.weight_sliders = {
            name: widgets.FloatSlider(value=1.0, min=0.0, max=4.0, step=0.1, description="weight",
                                      continuous_update=False)
            for name in layers
        }
        self.size_slider = tagged(_size_slider(size), "nst-size-slider")
        self.steps_slider = tagged(_steps_slider(steps), "nst-steps-slider")
        self.gram_dropdown = widgets.Dropdown(options=list(layers), value=layers[-1], description="Gram of")
        self.gram_widget = image_widget("nst-gram")
        rows = [widgets.HBox([self.layer_checkboxes[name], self.weight_sliders[name]]) for name in layers]
        super().__init__([*rows, self.size_slider, self.steps_slider], weights=weights)
        self.children = [*self.children, self.gram_dropdown, self.gram_widget]
        self.gram_dropdown.observe(lambda _change: self.show_grams(), names="value")
        self.watch(self.size_slider, self.steps_slider, *self.layer_checkboxes.values(), *self.weight_sliders.values())
        self.show_grams()

    @property
    def style(self) -> torch.Tensor:
        """The style image at the chosen size."""
        return resize_longest_side(self.style_image, self.size_slider.value)

    def settings(self) -> StyleSettings:
        layers = {
            name: slider.value for name, slider in self.weight_sliders.items()
            if self.layer_checkboxes[name].value and slider.value > 0
        }
        if not layers:
            raise SettingsError("No style layer is ticked with a weight above 0: tick at least one, then press Run.")
        return StyleSettings(**{**TEXTURE, "style_layers": layers, "steps": self.steps_slider.value,
                                "size": self.size_slider.value, "weights": self.weights})

    def scales(self, settings: StyleSettings) -> list[tuple[int, int]]:
        return [(settings.size, settings.steps)]  # a texture runs one scale, at its own size

    def _optimize(self, settings: StyleSettings, callback: Callback, every: int) -> Result:
        return synthesize_texture(self.style, settings.style_layers, settings, progress=False, callback=callback,
                                  every=every)

    def _show_result(self, result: Result) -> None:
        super()._show_result(result)
        self.show_grams()

    def grams(self) -> dict[str, torch.Tensor]:
        """The chosen layer's Gram matrix of the style image, and of the last texture once there is one."""
        layer = self.gram_dropdown.value
        images = {"style": self.style, **({"texture": self.last_result.image} if self.last_result else {})}
        with torch.no_grad():
            return {title: gram_matrix(self.model(image, [layer])[layer]) for title, image in images.items()}

    def show_grams(self) -> None:
        """Heatmaps of the chosen layer's Gram matrices on one colour scale, so they can be compared."""
        show_png(self.gram_widget, png_bytes(self._gram_figure()))

    def _gram_figure(self) -> Figure:
        return gram_heatmaps(self.grams(), layer=self.gram_dropdown.value)

    def preview(self) -> bytes:
        gram = self.grams()["style"][0, :64, :64].float().numpy()
        return preview_figure([("style image", self.style),
                               (f"its Gram matrix at {self.gram_dropdown.value}", gram)], self.name)


class Studio(Experiment):
    """Notebook 05: stylize examples or your own photos, then save the result and download it."""

    name = "Studio"

    def __init__(
        self, *, contents: Sequence[str], styles: Sequence[str], size: int, steps: int, weights: str = "original",
        folder: str | Path = "outputs",
    ) -> None:
        self.images: dict[str, torch.Tensor] = {}  # choice -> image; examples are loaded on first use
        self.folder = Path(folder)
        self.dropdowns = {"content": widgets.Dropdown(options=list(contents), description="content"),
                          "style": widgets.Dropdown(options=list(styles), description="style")}
        self.content_dropdown, self.style_dropdown = self.dropdowns["content"], self.dropdowns["style"]
        self.uploads = {role: tagged(widgets.FileUpload(accept="image/*", multiple=False, description=f"Your {role}"),
                                     f"nst-{role}-upload") for role in self.dropdowns}
        self.content_upload, self.style_upload = self.uploads["content"], self.uploads["style"]
        self.previews = {role: image_widget(f"nst-{role}-preview", 160) for role in self.dropdowns}
        self.shown = {role: "" for role in self.dropdowns}  # the last choice whose image could be loaded
        defaults = StyleSettings()
        self.ratio_slider = _weight_slider("content/style ratio α/β", defaults.content_weight / defaults.style_weight)
        self.size_slider = tagged(_size_slider(size), "nst-size-slider")
        self.steps_slider = tagged(_steps_slider(steps), "nst-steps-slider")
        self.save_button = widgets.Button(description="Save", icon="download", disabled=True)
        self.download = widgets.HTML()
        columns = [widgets.VBox([self.dropdowns[role], self.uploads[role], self.previews[role]])
                   for role in self.dropdowns]
        controls = [wrapping_row(columns), self.ratio_slider, self.size_slider, self.steps_slider]
        super().__init__(controls, weights=weights, image_width=320)
        self.children = [*self.children, widgets.HBox([self.save_button, self.download])]
        for role in self.dropdowns:
            self.dropdowns[role].observe(lambda change, role=role: self.choose(role, change["new"]), names="value")
            self.uploads[role].observe(lambda _change, role=role: self.add_uploads(role, self.uploads[role]),
                                       names="value")
            self.choose(role, self.dropdowns[role].value)
        self.save_button.on_click(lambda _button: self.save())
        self.watch(self.size_slider, self.steps_slider)

    def image(self, choice: str) -> torch.Tensor:
        """The image behind a dropdown choice: an upload, or an example loaded (and remembered) on first use."""
        if choice not in self.images:
            self.images[choice] = load_example(choice, max_size=self.size_slider.max)
        return self.images[choice]

    def choose(self, role: str, choice: str) -> bool:
        """Show ``choice`` as the ``role`` image; if it cannot be loaded, go back to the last good one and say why."""
        if choice == self.shown[role]:
            return True
        try:
            if choice not in self.images:
                self.say(f"Loading {choice}…")
            image = self.image(choice)
        except NSTError as error:  # e.g. a classic painting while offline
            self.say(f"Cannot use {choice}: {error}")
            if self.shown[role]:
                self.dropdowns[role].value = self.shown[role]  # observed: shown[role] loads at once, from memory
            return False
        self.shown[role] = choice
        show_png(self.previews[role], png_bytes(resize_longest_side(image, 160)))
        if self.status_text.startswith("Loading"):
            self.say(f"{role.capitalize()}: {choice}. Press Run to stylize.")
        return True

    def add_uploads(self, role: str, upload: widgets.FileUpload | Sequence[tuple[str, bytes]]) -> list[str]:
        """Load uploaded files and offer them (selected) as ``role`` ("content" or "style") choices; return those.

        Each upload is offered as ``"upload: NAME"`` (NAME cleaned of folders and odd characters), so it never hides
        or replaces a shipped example of the same name. A file that is too big or cannot be read is skipped, and the
        status line says which and what to do: a widget callback must never end in a traceback. The upload button
        is emptied afterwards, so its count never claims a file that was refused.
        """
        files = uploaded_files(upload) if isinstance(upload, widgets.FileUpload) else upload
        if not files:  # the upload button being emptied
            return []
        added, problems = [], []
        for raw_name, data in files:
            name = upload_name(raw_name)
            try:
                image = self._load_upload(name, data)
            except NSTError as error:
                problems.append(f"{error}")
                continue
            except Exception as error:  # Pillow has many ways to fail on a damaged file; none may end in a traceback
                problems.append(f"{name} could not be read ({type(error).__name__}: {error}); upload a PNG or JPEG")
                continue
            choice = UPLOAD_PREFIX + name
            self.images[choice] = image
            self.shown[role] = ""  # a new upload under an old name is shown afresh
            dropdown = self.dropdowns[role]
            if choice not in dropdown.options:
                dropdown.options = [*dropdown.options, choice]
            dropdown.value = choice
            self.choose(role, choice)
            added.append(choice)
        if problems:
            self.say("Upload skipped: " + " | ".join(problems))
        elif added:
            self.say(f"Uploaded {', '.join(added)}.")
        if isinstance(upload, widgets.FileUpload):
            clear_upload(upload)
        return added

    def _load_upload(self, name: str, data: bytes) -> torch.Tensor:
        if len(data) > MAX_UPLOAD_BYTES:
            raise ImageError(f"{name} is {len(data) / 2**20:.1f} MB, more than the upload limit of "
                             f"{MAX_UPLOAD_BYTES / 2**20:g} MB; shrink it or save it as JPEG, then upload it again")
        return load_image_bytes(data, name, max_size=self.size_slider.max)

    def settings(self) -> StyleSettings:
        return StyleSettings(style_weight=StyleSettings().content_weight / self.ratio_slider.value,
                             size=self.size_slider.value, steps=self.steps_slider.value, weights=self.weights)

    def _optimize(self, settings: StyleSettings, callback: Callback, every: int) -> Result:
        content, style = self.image(self.shown["content"]), self.image(self.shown["style"])
        return stylize(content, style, settings, progress=False, callback=callback, every=every)

    def _show_result(self, result: Result) -> None:
        super()._show_result(result)
        self.save_button.disabled = False
        self.download.value = ""

    def preview(self) -> bytes:
        panels = [(f"{role}: {choice}", self.image(choice)) for role, choice in self.shown.items() if choice]
        return preview_figure(panels or [("content", torch.zeros(1, 3, 8, 8))], self.name)

    def save(self) -> Path | None:
        """Write the last result as a PNG into ``folder`` (never overwriting a file) and offer it for download.

        Never raises: a problem (a folder that cannot be written, a full disk) is reported in the status line.
        """
        if self.last_result is None:
            self.say("Nothing to save yet: press Run first.")
            return None
        stem = "_".join(file_stem(choice) for choice in (self.content_dropdown.value, self.style_dropdown.value))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path, number = self.folder / f"{stem}.png", 1
            while path.exists():
                number += 1
                path = self.folder / f"{stem}_{number}.png"
            save_image(self.last_result.image, path)
            encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        except Exception as error:  # a button's callback must not end in a traceback
            self.say(f"Could not save into {self.folder} ({error}); choose another folder with "
                                 "studio(folder=...) or free some disk space, then press Save again")
            return None
        self.download.value = (f'<a download="{html.escape(path.name)}" href="data:image/png;base64,{encoded}">'
                               f"Download {html.escape(path.name)}</a>")
        self.say(f"Saved {path}")
        return path


def upload_name(name: str) -> str:
    """An uploaded file's name made safe to show and to use in a file name: no folders, odd characters or excess."""
    name = re.split(r"[\\/]", str(name))[-1]
    name = re.sub(r"[^\w .()+-]+", "_", name).strip(" ._") or "upload"
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 8:
        stem, suffix = name, ""
    return stem[:MAX_NAME_CHARS] + (f".{suffix}" if suffix else "")


def file_stem(choice: str) -> str:
    """The part of a saved file's name that comes from a dropdown choice: letters, digits, - and _ only, shortened."""
    choice = choice.removeprefix(UPLOAD_PREFIX)
    return re.sub(r"[^\w-]+", "-", Path(choice).stem).strip("-")[:MAX_NAME_CHARS] or "image"


class FeatureMapExplorer(FirstView, widgets.VBox):
    """Notebook 01: what one channel, or a page of 16 channels, of a VGG19 layer responds to in an image."""

    name = "Feature map explorer"

    def __init__(self, images: Mapping[str, Any], *, size: int, weights: str = "original") -> None:
        self.images = {name: resize_longest_side(load_image(image), size) for name, image in images.items()}
        self.model = load_vgg(weights)
        self.image_dropdown = widgets.Dropdown(options=list(self.images), description="image")
        self.layer_dropdown = widgets.Dropdown(options=LAYER_NAMES, value="relu1_1", description="layer")
        self.channel_slider = widgets.IntSlider(value=0, min=0, max=63, description="channel", continuous_update=False)
        self.page_checkbox = widgets.Checkbox(value=False, description=f"page of {PAGE} channels")
        self.figure_widget = image_widget("nst-feature-maps")
        self.status = tagged(widgets.HTML(layout=widgets.Layout(width="auto")), "nst-status")
        self.status_text = ""
        self.output = widgets.Output()
        self._features: tuple[tuple[str, str], torch.Tensor] | None = None
        self._drawing = False
        controls = [self.image_dropdown, self.layer_dropdown, self.channel_slider, self.page_checkbox]
        for control in controls:
            control.observe(lambda _change: self.update(), names="value")
        super().__init__(children=[wrapping_row(controls[:2]), wrapping_row(controls[2:]), self.status,
                                   self.figure_widget, self.output])
        self.update()

    def say(self, text: str) -> None:
        """Show ``text`` as the status line."""
        self.status_text = text
        self.status.value = status_html(text)

    def features(self) -> torch.Tensor:
        """The chosen layer's features of the chosen image, (1, C, H, W); the last ones are remembered."""
        key = (self.image_dropdown.value, self.layer_dropdown.value)
        if self._features is None or self._features[0] != key:
            with torch.no_grad():
                self._features = key, self.model(self.images[key[0]], [key[1]])[key[1]]
        return self._features[1]

    def update(self) -> None:
        """Redraw the figure for the current image, layer and channel (or page)."""
        if self._drawing:  # changing the slider's range below would otherwise redraw twice
            return
        self._drawing = True
        try:
            features = self.features()
            channels, layer = features.shape[1], self.layer_dropdown.value
            self.channel_slider.max = channels - 1
            channel = self.channel_slider.value
            if self.page_checkbox.value:
                first = channel // PAGE * PAGE
                shown = list(range(first, min(first + PAGE, channels)))
                figure = feature_maps(features, shown, title=f"{layer}: channels {shown[0]}–{shown[-1]} "
                                                             "(each map on its own colour scale)")
            else:
                figure = self._one_channel(features, channel)
            show_png(self.figure_widget, png_bytes(figure))
            self.say(f"{layer}: {channels} channels of {features.shape[2]}×{features.shape[3]} positions")
        except NSTError as error:
            self.say(f"{error}")
        finally:
            self._drawing = False

    def _one_channel(self, features: torch.Tensor, channel: int) -> Figure:
        figure = Figure(figsize=(7, 3.2))
        left, right = figure.subplots(1, 2)
        left.imshow(tensor_to_pil(self.images[self.image_dropdown.value]))
        left.set_title(self.image_dropdown.value)
        shown = right.imshow(features[0, channel].float().numpy(), cmap="viridis")
        right.set_title(f"{self.layer_dropdown.value}, channel {channel}")
        figure.colorbar(shown, ax=right, fraction=0.046).set_label("activation")
        for ax in (left, right):
            ax.axis("off")
        figure.tight_layout()
        return figure

    def preview(self) -> bytes:
        image = self.images[self.image_dropdown.value]
        channel = self.features()[0, self.channel_slider.value].float().numpy()
        return preview_figure([(self.image_dropdown.value, image),
                               (f"{self.layer_dropdown.value}, channel {self.channel_slider.value}", channel)],
                              self.name)


def _profile_or(value: int | None, field: str) -> int:
    return value if value is not None else getattr(get_profile(), field)


def feature_map_explorer(
    images: Sequence[str] | Mapping[str, Any] = ("chelsea", "astronaut", "coffee", "brushstrokes"), *,
    size: int | None = None, weights: str = "original",
) -> FeatureMapExplorer:
    """Notebook 01's explorer; ``images`` are example names or ``{name: image}``; ``size`` defaults to the profile's."""
    if not isinstance(images, Mapping):
        images = {name: load_example(name) for name in images}
    return FeatureMapExplorer(images, size=_profile_or(size, "size"), weights=weights)


def style_layer_explorer(
    style: Any, *, size: int | None = None, steps: int | None = None, layers: Sequence[str] = STYLE_LAYERS,
    weights: str = "original",
) -> StyleLayerExplorer:
    """Notebook 03's explorer for ``style``; ``size`` and ``steps`` default to the profile's quick experiments."""
    return StyleLayerExplorer(style, size=_profile_or(size, "small_size"), steps=_profile_or(steps, "small_steps"),
                              layers=layers, weights=weights)


def loss_lab(
    content: Any, style: Any, *, size: int | None = None, steps: int | None = None, weights: str = "original"
) -> LossLab:
    """Notebook 04's loss lab for ``content`` and ``style``; ``size`` and ``steps`` default to the profile's."""
    return LossLab(content, style, size=_profile_or(size, "size"), steps=_profile_or(steps, "steps"), weights=weights)


def studio(
    *, contents: Sequence[str] = ("chelsea", "astronaut", "coffee", "rocket", "tubingen"),
    styles: Sequence[str] = ("swirls", "brushstrokes", "mosaic", "stained_glass", "starry_night", "the_scream",
                             "shipwreck"),
    size: int | None = None, steps: int | None = None, weights: str = "original", folder: str | Path = "outputs",
) -> Studio:
    """Notebook 05's studio: example names to choose from (uploads are added), saving into ``folder``."""
    return Studio(contents=contents, styles=styles, size=_profile_or(size, "size"), steps=_profile_or(steps, "steps"),
                  weights=weights, folder=folder)

