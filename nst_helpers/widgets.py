"""Interactive experiments for the notebooks, built from ipywidgets (works with ipywidgets 7 and 8).

- :func:`feature_map_explorer` (notebook 01): pick an image, a layer and a channel, or a page of 16 channels.
- :func:`style_layer_explorer` (notebook 03): choose the style layers and their weights, synthesize a texture, and
  compare Gram matrices.
- :func:`loss_lab` (notebook 04): the content/style ratio, TV weight, steps, init and optimizer, with a live image
  and loss plot.
- :func:`studio` (notebook 05): examples or your own uploaded images, the main settings, Run and Save.

Each experiment is a ``VBox`` whose controls are attributes, so code can drive it like a learner does: set
``lab.steps_slider.value = 20``, then call ``lab.run_button.click()``. Only a button starts an optimization. It runs
in the kernel while the widgets update, so the notebook's stop button ends it, and the best image so far is kept.
Whatever a callback prints, warns or raises appears in the experiment's ``output`` area instead of being lost.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
import signal
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import torch
from IPython import get_ipython
from matplotlib.figure import Figure

from .config import get_profile
from .data import load_example
from .errors import ImageError, NSTError
from .images import load_image, load_image_bytes, resize_longest_side, save_image, tensor_to_pil
from .losses import gram_matrix
from .optimize import Callback, Result
from .plots import feature_maps, gram_heatmap
from .settings import INITS, OPTIMIZERS, StyleSettings
from .transfer import TEXTURE, planned_steps, stylize, synthesize_texture
from .vgg import LAYER_NAMES, STYLE_LAYERS, load_vgg

PAGE = 16  # channels on one page of the feature map explorer
MAX_UPLOAD_BYTES = 20 * 2**20  # larger uploads are refused before decoding; images.MAX_PIXELS limits the pixels
UPLOAD_PREFIX = "upload: "  # uploads are offered as "upload: NAME", apart from the shipped examples
MAX_NAME_CHARS = 60  # of an upload's name as shown, and of each part of a saved file's name
UPDATES_PER_RUN = 20  # how often a run refreshes its image and loss plot


def png_bytes(image: torch.Tensor | Figure, dpi: int = 80) -> bytes:
    """An image tensor (1, 3, H, W) or a matplotlib figure as PNG bytes, the value an ``ipywidgets.Image`` shows."""
    buffer = io.BytesIO()
    if isinstance(image, Figure):
        image.savefig(buffer, format="png", dpi=dpi)
    else:
        tensor_to_pil(image).save(buffer, format="PNG")
    return buffer.getvalue()


def loss_figure(steps: Sequence[int], losses: Mapping[str, Sequence[float]]) -> Figure:
    """Each weighted loss term against the step, on a log scale (terms that stay at zero are left out)."""
    figure = Figure(figsize=(4.2, 2.8))
    ax = figure.subplots()
    for name, values in losses.items():
        values = np.asarray(values, dtype=float)
        if (values > 0).any():
            ax.plot(steps, np.where(values > 0, values, np.nan), label=name, marker="." if len(steps) < 30 else "")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("weighted loss")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def uploaded_files(upload: widgets.FileUpload | Mapping | Sequence) -> list[tuple[str, bytes]]:
    """``[(file name, content)]`` from a ``FileUpload`` or its ``value``, in the shape of ipywidgets 7 or 8.

    ipywidgets 7: ``{name: {"metadata": {...}, "content": bytes}}``;
    ipywidgets 8: ``({"name": name, "content": memoryview, "type": ..., "size": ...}, ...)``.
    """
    value = upload.value if isinstance(upload, widgets.FileUpload) else upload
    if isinstance(value, Mapping):
        return [(name, bytes(item["content"])) for name, item in value.items()]
    return [(item["name"], bytes(item["content"])) for item in value]


def _sent_at() -> float | None:
    """When the browser sent the widget event being handled (the time stamp in its message header), in seconds.

    ``None`` outside a kernel, or with a kernel too old to say (ipykernel < 6).
    """
    kernel = getattr(get_ipython(), "kernel", None)
    parent = kernel.get_parent() if hasattr(kernel, "get_parent") else None
    date = (parent or {}).get("header", {}).get("date")
    return date.timestamp() if isinstance(date, datetime) else None


def call_interruptibly(function: Callable[[], Any]) -> None:
    """Call ``function`` where the notebook's stop button can interrupt it.

    The stop button sends SIGINT, which Python turns into ``KeyboardInterrupt`` on the main thread only. JupyterLab
    4.6 with ipykernel 7 handles widget events on another thread (a kernel "subshell"), so from there the call is
    handed to the kernel's main thread, with Python's usual SIGINT handler while it runs.
    """
    kernel = getattr(get_ipython(), "kernel", None)
    if threading.current_thread() is threading.main_thread() or not hasattr(kernel, "io_loop"):
        function()
        return

    def on_main_thread() -> None:
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            function()
        finally:
            signal.signal(signal.SIGINT, previous)

    kernel.io_loop.add_callback(on_main_thread)


def _weight_slider(description: str, default: float, decades: int = 3) -> widgets.FloatLogSlider:
    """A log-scale slider spanning ``decades`` powers of ten either side of ``default``."""
    centre = math.log10(default)
    return widgets.FloatLogSlider(
        value=default, base=10, min=centre - decades, max=centre + decades, step=0.25, description=description,
        readout_format=".3g", continuous_update=False, style={"description_width": "initial"},
    )


def _tagged(widget: widgets.DOMWidget, css_class: str) -> widgets.DOMWidget:
    """Give ``widget`` a stable CSS class, so the browser test (and custom styles) can find it."""
    widget.add_class(css_class)
    return widget


class Experiment(widgets.VBox):
    """What every optimizing experiment shares: Run button, progress bar, status, live image, loss plot, output.

    Subclasses say which settings the controls ask for (:meth:`settings`) and how to optimize with them
    (:meth:`_optimize`). After a run, ``last_result`` is its :class:`~nst_helpers.Result` and ``last_settings`` the
    settings the optimizer really used (``last_result.settings``); ``runs`` counts the runs started.

    A second click during a run must not start a second run. The button is disabled while a run goes, but a click
    made before the browser heard of that can wait in the kernel's queue until the run ends. So the browser's time
    stamp on each click is compared with the span of the last run, measured from its own click.
    """

    def __init__(self, controls: Sequence[widgets.Widget], *, image_width: int = 256) -> None:
        self.run_button = _tagged(widgets.Button(description="Run", button_style="primary", icon="play"), "nst-run")
        self.progress = _tagged(widgets.IntProgress(value=0, min=0, max=1, description="steps"), "nst-progress")
        self.status = _tagged(widgets.Label("Choose the settings, then press Run."), "nst-status")
        self.image_widget = _tagged(widgets.Image(format="png", width=str(image_width)), "nst-result")
        self.loss_widget = _tagged(widgets.Image(value=png_bytes(loss_figure([], {})), format="png", width="360"),
                                   "nst-loss-plot")
        self.output = _tagged(widgets.Output(), "nst-output")
        self.last_result: Result | None = None
        self.last_settings: StyleSettings | None = None
        self.runs = 0
        self._running = False
        self._click: tuple[float, float] | None = None  # (browser time stamp, time.monotonic()) of the run's click
        self._busy_until = -math.inf  # browser time at which the last run started by a click ended
        self._steps: list[int] = []
        self._losses: dict[str, list[float]] = {}
        self.run_button.on_click(self._clicked)
        super().__init__(children=[
            *controls,
            widgets.HBox([self.run_button, self.progress, self.status]),
            widgets.HBox([self.image_widget, self.loss_widget]),
            self.output,
        ])

    def settings(self) -> StyleSettings:
        """The settings the controls ask for."""
        raise NotImplementedError

    def _optimize(self, settings: StyleSettings, callback: Callback, every: int) -> Result:
        raise NotImplementedError

    def planned_steps(self, settings: StyleSettings) -> int:
        """Steps of a stylization at every scale (large results start at half size with a quarter of the steps)."""
        return planned_steps(settings)

    def _clicked(self, _button: widgets.Button) -> None:
        sent = _sent_at()
        if self._running or (sent is not None and sent < self._busy_until):
            note = " (A click made during the run was ignored.)"
            self.status.value = self.status.value.replace(note, "") + note
            return
        self._running = True  # claimed now: the run itself may start a moment later, on the kernel's main thread
        self._click = (sent, time.monotonic()) if sent is not None else None
        call_interruptibly(self._run)

    def run(self) -> Result | None:
        """Optimize with the current settings and show the result; ignored (and said so) while a run is going."""
        if self._running:
            self.status.value = "Already running: wait for this run to end, or press the notebook's stop button."
            return None
        self._running = True
        return self._run()

    def _run(self) -> Result | None:
        self.run_button.disabled = True
        self.runs += 1
        result = None
        try:
            with self.output:
                self.output.clear_output()
                settings = self.settings()
                self.progress.max, self.progress.value = self.planned_steps(settings), 0
                self._steps, self._losses = [], {}
                self.status.value = "Running… (the notebook's stop button ends the run and keeps the best image)"
                every = max(1, self.progress.max // UPDATES_PER_RUN)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    result = self._optimize(settings, self._show_progress, every)
                if caught:  # shown by the widget itself, since a stream written after an interrupt can be lost
                    self.output.append_stderr("".join(f"{w.category.__name__}: {w.message}\n" for w in caught))
        finally:
            if self._click:
                sent, handled = self._click
                self._busy_until, self._click = sent + time.monotonic() - handled, None
            self._running, self.run_button.disabled = False, False
        if result is None:  # in a notebook the output area shows the error
            self.status.value = "No result: see the message below."
            return None
        self._show_result(result)
        return result

    def _show_progress(self, step: int, image: torch.Tensor, losses: dict[str, float]) -> None:
        """Called by the optimizer every few steps: move the bar, show the current image and the losses so far."""
        self.progress.value = step
        self._steps.append(step)
        for name, value in losses.items():
            self._losses.setdefault(name, []).append(value)
        self.image_widget.value = png_bytes(image.clamp(0, 1))
        self.loss_widget.value = png_bytes(loss_figure(self._steps, self._losses))
        self.status.value = f"step {step} of {self.progress.max}: loss {losses['total']:.4g}"

    def _show_result(self, result: Result) -> None:
        self.last_result, self.last_settings = result, result.settings
        self.progress.value = result.steps_done
        self.image_widget.value = png_bytes(result.image)
        if result.history:
            self.loss_widget.value = png_bytes(loss_figure(range(1, result.steps_done + 1), result.history))
        if result.interrupted:
            self.status.value = (f"Stopped after {result.steps_done} steps: kept the best image "
                                 f"(loss {result.final_loss:.4g}).")
        elif result.stopped_reason:
            self.status.value = f"Stopped early ({result.stopped_reason}): showing the last good image."
        else:
            self.status.value = (f"Done: {result.steps_done} steps in {result.seconds:.1f} s, "
                                 f"loss {result.final_loss:.4g}.")


class LossLab(Experiment):
    """Notebook 04: how the content/style ratio, TV weight, steps, init and optimizer change a stylization."""

    def __init__(self, content: Any, style: Any, *, size: int, steps: int, weights: str = "original") -> None:
        self.content, self.style = load_image(content), load_image(style)
        self.size, self.weights = size, weights
        defaults = StyleSettings()
        default_ratio = defaults.content_weight / defaults.style_weight
        self.ratio_slider = _tagged(_weight_slider("content/style ratio α/β", default_ratio), "nst-ratio-slider")
        self.tv_slider = _tagged(_weight_slider("TV weight", defaults.tv_weight), "nst-tv-slider")
        self.steps_slider = _tagged(
            widgets.IntSlider(value=steps, min=1, max=4 * steps, description="steps", continuous_update=False),
            "nst-steps-slider",
        )
        buttons = {"button_width": "90px"}
        self.init_buttons = widgets.ToggleButtons(options=INITS, value="content", description="init", style=buttons)
        self.optimizer_buttons = widgets.ToggleButtons(options=OPTIMIZERS, value="lbfgs", description="optimizer",
                                                       style=buttons)
        super().__init__([
            widgets.HBox([self.ratio_slider, self.tv_slider]),
            widgets.HBox([self.steps_slider, self.init_buttons, self.optimizer_buttons]),
        ])
        self.image_widget.value = png_bytes(resize_longest_side(self.content, size))  # until the first run

    def settings(self) -> StyleSettings:
        return StyleSettings(
            style_weight=StyleSettings().content_weight / self.ratio_slider.value, tv_weight=self.tv_slider.value,
            steps=self.steps_slider.value, init=self.init_buttons.value, optimizer=self.optimizer_buttons.value,
            size=self.size, weights=self.weights,
        )

    def _optimize(self, settings: StyleSettings, callback: Callback, every: int) -> Result:
        return stylize(self.content, self.style, settings, progress=False, callback=callback, every=every)


class StyleLayerExplorer(Experiment):
    """Notebook 03: which layers' Gram matrices, with which weights, make a texture; and what a Gram matrix shows."""

    def __init__(
        self, style: Any, *, size: int, steps: int, layers: Sequence[str] = STYLE_LAYERS, weights: str = "original"
    ) -> None:
        self.style = resize_longest_side(load_image(style), size)
        self.size, self.weights = size, weights
        self.model = load_vgg(weights)
        self.layer_checkboxes = {name: widgets.Checkbox(value=True, description=name, indent=False) for name in layers}
        self.weight_sliders = {
            name: widgets.FloatSlider(value=1.0, min=0.0, max=4.0, step=0.1, description="weight",
                                      continuous_update=False)
            for name in layers
        }
        self.steps_slider = widgets.IntSlider(value=steps, min=1, max=4 * steps, description="steps",
                                              continuous_update=False)
        self.gram_dropdown = widgets.Dropdown(options=list(layers), value=layers[-1], description="Gram of")
        self.gram_widgets = [widgets.Image(format="png", width="280") for _ in range(2)]
        rows = [widgets.HBox([self.layer_checkboxes[name], self.weight_sliders[name]]) for name in layers]
        super().__init__([*rows, self.steps_slider])
        self.children = [*self.children, self.gram_dropdown, widgets.HBox(self.gram_widgets)]
        self.gram_dropdown.observe(lambda _change: self.show_grams(), names="value")
        self.show_grams()

    def settings(self) -> StyleSettings:
        layers = {
            name: slider.value for name, slider in self.weight_sliders.items()
            if self.layer_checkboxes[name].value and slider.value > 0
        }
        return StyleSettings(**{**TEXTURE, "style_layers": layers, "steps": self.steps_slider.value,
                                "size": self.size, "weights": self.weights})

    def planned_steps(self, settings: StyleSettings) -> int:
        return settings.steps  # a texture runs one scale

    def _optimize(self, settings: StyleSettings, callback: Callback, every: int) -> Result:
        return synthesize_texture(self.style, settings.style_layers, settings, progress=False, callback=callback,
                                  every=every)

    def _show_result(self, result: Result) -> None:
        super()._show_result(result)
        self.show_grams()

    def show_grams(self) -> None:
        """Heatmaps of the chosen layer's Gram matrix: the style image's, and the last texture's once there is one."""
        layer = self.gram_dropdown.value
        with self.output, torch.no_grad():
            pairs = [("style", self.style)] + ([("texture", self.last_result.image)] if self.last_result else [])
            for widget, (title, image) in zip(self.gram_widgets, pairs, strict=False):
                gram = gram_matrix(self.model(image, [layer])[layer])
                widget.value = png_bytes(gram_heatmap(gram, title=f"{title}: Gram of {layer}"))


class Studio(Experiment):
    """Notebook 05: stylize examples or your own photos, then save the result and download it."""

    def __init__(
        self, *, contents: Sequence[str], styles: Sequence[str], size: int, steps: int, weights: str = "original",
        folder: str | Path = "outputs",
    ) -> None:
        self.images: dict[str, torch.Tensor] = {}  # choice -> image; examples are loaded on first use
        self.weights, self.folder = weights, Path(folder)
        self.content_dropdown = widgets.Dropdown(options=list(contents), description="content")
        self.style_dropdown = widgets.Dropdown(options=list(styles), description="style")
        self.content_upload = widgets.FileUpload(accept="image/*", multiple=False, description="Your content")
        self.style_upload = widgets.FileUpload(accept="image/*", multiple=False, description="Your style")
        self.previews = {"content": widgets.Image(format="png", width="160"),
                         "style": widgets.Image(format="png", width="160")}
        defaults = StyleSettings()
        self.ratio_slider = _weight_slider("content/style ratio α/β", defaults.content_weight / defaults.style_weight)
        self.size_slider = widgets.IntSlider(value=size, min=32, max=max(1024, size), step=32, description="size",
                                             continuous_update=False)
        self.steps_slider = widgets.IntSlider(value=steps, min=1, max=4 * steps, description="steps",
                                              continuous_update=False)
        self.save_button = widgets.Button(description="Save", icon="download", disabled=True)
        self.download = widgets.HTML()
        columns = [
            widgets.VBox([self.content_dropdown, self.content_upload, self.previews["content"]]),
            widgets.VBox([self.style_dropdown, self.style_upload, self.previews["style"]]),
        ]
        settings = widgets.HBox([self.size_slider, self.steps_slider])
        super().__init__([widgets.HBox(columns), self.ratio_slider, settings], image_width=384)
        self.children = [*self.children, widgets.HBox([self.save_button, self.download])]
        for role, dropdown, upload in (("content", self.content_dropdown, self.content_upload),
                                       ("style", self.style_dropdown, self.style_upload)):
            dropdown.observe(lambda change, role=role: self._show_preview(role, change["new"]), names="value")
            upload.observe(lambda _change, role=role, upload=upload: self.add_uploads(role, upload), names="value")
            self._show_preview(role, dropdown.value)
        self.save_button.on_click(lambda _button: self.save())

    def image(self, choice: str) -> torch.Tensor:
        """The image behind a dropdown choice: an upload, or an example loaded (and remembered) on first use."""
        if choice not in self.images:
            self.images[choice] = load_example(choice, max_size=self.size_slider.max)
        return self.images[choice]

    def add_uploads(self, role: str, upload: widgets.FileUpload | Sequence[tuple[str, bytes]]) -> list[str]:
        """Load uploaded files and offer them (selected) as ``role`` ("content" or "style") choices; return those.

        Each upload is offered as ``"upload: NAME"`` (NAME cleaned of folders and odd characters), so it never hides
        or replaces a shipped example of the same name. A file that is too big or cannot be read is skipped, and the
        status line says which and what to do: a widget callback must never end in a traceback.
        """
        dropdown = self.content_dropdown if role == "content" else self.style_dropdown
        files = uploaded_files(upload) if isinstance(upload, widgets.FileUpload) else upload
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
            if choice not in dropdown.options:
                dropdown.options = [*dropdown.options, choice]
            dropdown.value = choice
            self._show_preview(role, choice)
            added.append(choice)
        if problems:
            self.status.value = "Upload skipped: " + " | ".join(problems)
        elif added:
            self.status.value = f"Uploaded {', '.join(added)}."
        return added

    def _load_upload(self, name: str, data: bytes) -> torch.Tensor:
        if len(data) > MAX_UPLOAD_BYTES:
            raise ImageError(f"{name} is {len(data) / 2**20:.1f} MB, more than the upload limit of "
                             f"{MAX_UPLOAD_BYTES / 2**20:g} MB; shrink it or save it as JPEG, then upload it again")
        return load_image_bytes(data, name, max_size=self.size_slider.max)

    def _show_preview(self, role: str, choice: str) -> None:
        try:
            self.previews[role].value = png_bytes(resize_longest_side(self.image(choice), 160))
        except NSTError as error:  # e.g. a classic painting while offline
            self.previews[role].value = b""
            self.status.value = f"Cannot show {choice}: {error}"

    def settings(self) -> StyleSettings:
        return StyleSettings(style_weight=StyleSettings().content_weight / self.ratio_slider.value,
                             size=self.size_slider.value, steps=self.steps_slider.value, weights=self.weights)

    def _optimize(self, settings: StyleSettings, callback: Callback, every: int) -> Result:
        content, style = self.image(self.content_dropdown.value), self.image(self.style_dropdown.value)
        return stylize(content, style, settings, progress=False, callback=callback, every=every)

    def _show_result(self, result: Result) -> None:
        super()._show_result(result)
        self.save_button.disabled = False
        self.download.value = ""

    def save(self) -> Path | None:
        """Write the last result as a PNG into ``folder`` (never overwriting a file) and offer it for download.

        Never raises: a problem (a folder that cannot be written, a full disk) is reported in the status line.
        """
        if self.last_result is None:
            self.status.value = "Nothing to save yet: press Run first."
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
            self.status.value = (f"Could not save into {self.folder} ({error}); choose another folder with "
                                 "studio(folder=...) or free some disk space, then press Save again")
            return None
        self.download.value = (f'<a download="{html.escape(path.name)}" href="data:image/png;base64,{encoded}">'
                               f"Download {html.escape(path.name)}</a>")
        self.status.value = f"Saved {path}"
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


class FeatureMapExplorer(widgets.VBox):
    """Notebook 01: what one channel, or a page of 16 channels, of a VGG19 layer responds to in an image."""

    def __init__(self, images: Mapping[str, Any], *, size: int, weights: str = "original") -> None:
        self.images = {name: resize_longest_side(load_image(image), size) for name, image in images.items()}
        self.model = load_vgg(weights)
        self.image_dropdown = widgets.Dropdown(options=list(self.images), description="image")
        self.layer_dropdown = widgets.Dropdown(options=LAYER_NAMES, value="relu1_1", description="layer")
        self.channel_slider = widgets.IntSlider(value=0, min=0, max=63, description="channel", continuous_update=False)
        self.page_checkbox = widgets.Checkbox(value=False, description=f"page of {PAGE} channels")
        self.figure_widget = widgets.Image(format="png")
        self.status = widgets.Label()
        self.output = widgets.Output()
        self._features: tuple[tuple[str, str], torch.Tensor] | None = None
        self._drawing = False
        controls = [self.image_dropdown, self.layer_dropdown, self.channel_slider, self.page_checkbox]
        for control in controls:
            control.observe(lambda _change: self.update(), names="value")
        super().__init__(children=[widgets.HBox(controls[:2]), widgets.HBox(controls[2:]), self.status,
                                   self.figure_widget, self.output])
        self.update()

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
            with self.output:
                features = self.features()
                channels, layer = features.shape[1], self.layer_dropdown.value
                self.channel_slider.max = channels - 1
                channel = self.channel_slider.value
                if self.page_checkbox.value:
                    first = channel // PAGE * PAGE
                    shown = list(range(first, min(first + PAGE, channels)))
                    figure = feature_maps(features, shown, title=f"{layer}: channels {shown[0]}–{shown[-1]}")
                else:
                    figure = self._one_channel(features, channel)
                self.figure_widget.value = png_bytes(figure)
                self.status.value = f"{layer}: {channels} channels of {features.shape[2]}×{features.shape[3]} positions"
        finally:
            self._drawing = False

    def _one_channel(self, features: torch.Tensor, channel: int) -> Figure:
        figure = Figure(figsize=(7, 3.2))
        left, right = figure.subplots(1, 2)
        left.imshow(tensor_to_pil(self.images[self.image_dropdown.value]))
        left.set_title(self.image_dropdown.value)
        shown = right.imshow(features[0, channel].float().numpy(), cmap="viridis")
        right.set_title(f"{self.layer_dropdown.value}, channel {channel}")
        figure.colorbar(shown, ax=right, fraction=0.046)
        for ax in (left, right):
            ax.axis("off")
        figure.tight_layout()
        return figure


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

