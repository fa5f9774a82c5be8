"""What the optimizing experiments of :mod:`nst_helpers.widgets` share: Run and Stop, progress, status, time estimate.

Rules every experiment keeps, because a class meets them all at once:

- A first view without a kernel: each experiment's display carries, beside the live widget view, a small PNG of
  what it shows and one line of text. JupyterLab (for a notebook that is not trusted yet) and GitHub cannot draw
  widget views, so they fall back to that picture.
- One status line: whatever a learner can cause (no layer ticked, a painting that cannot be downloaded, a file that
  is not an image) is one line in the status area, never a traceback, and each run clears the last run's messages.
- Images keep their aspect ratio and stay hidden while empty (no broken-image icons, no empty plots).
- A Stop button, a time estimate from a measured step time, and after a stop the steps really done.
"""

from __future__ import annotations

import html
import io
import math
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import ipywidgets as widgets
import numpy as np
import torch
from IPython import get_ipython
from IPython.display import display
from matplotlib.figure import Figure

from .errors import NSTError
from .images import tensor_to_pil
from .optimize import Callback, Result
from .robust import MIN_WORKING_SIZE
from .schedule import plan_scales
from .settings import StyleSettings
from .vgg import STYLE_LAYERS, load_vgg

IPYWIDGETS_MAJOR = int(widgets.__version__.split(".")[0])
VIEW_MIME = "application/vnd.jupyter.widget-view+json"
UPDATES_PER_RUN = 20  # how often a run refreshes its image and loss plot
LONG_RUN_SECONDS = 20.0  # estimates above this come with advice before the run
PROBE_SIZE = 128  # px of the one timed forward-backward pass that calibrates estimates before the first run
# weights -> (seconds per step per million pixels, seconds of set-up per run), measured on this machine this session
_pace: dict[str, tuple[float, float]] = {}


def png_bytes(image: torch.Tensor | Figure, dpi: int = 80) -> bytes:
    """An image tensor (1, 3, H, W) or a matplotlib figure as PNG bytes, the value an ``ipywidgets.Image`` shows."""
    buffer = io.BytesIO()
    if isinstance(image, Figure):
        image.savefig(buffer, format="png", dpi=dpi)
    else:
        tensor_to_pil(image).save(buffer, format="PNG")
    return buffer.getvalue()


def loss_figure(steps: Sequence[int], losses: Mapping[str, Sequence[float]],
                terms: Sequence[str] | None = None) -> Figure:
    """Each weighted loss term (``terms``, default all) against the step, log scale; terms at zero are left out.

    The total is drawn last as a thin dashed black line, so a term that makes up nearly all of it stays visible.
    """
    figure = Figure(figsize=(4.2, 2.8))
    ax = figure.subplots()
    names = [name for name in losses if terms is None or name in terms]
    for name in sorted(names, key=lambda name: name == "total"):
        values = np.asarray(losses[name], dtype=float)
        if (values > 0).any():
            look = {"color": "black", "linestyle": "--", "linewidth": 1.2} if name == "total" else {"linewidth": 2.5}
            ax.plot(steps, np.where(values > 0, values, np.nan), label=name,
                    marker="." if len(steps) < 30 else "", **look)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("weighted loss")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def tagged(widget: widgets.DOMWidget, css_class: str) -> widgets.DOMWidget:
    """Give ``widget`` a stable CSS class, so the browser test (and custom styles) can find it."""
    widget.add_class(css_class)
    return widget


def image_widget(css_class: str, width: int | None = None) -> widgets.Image:
    """An image that keeps its aspect ratio in any row (rows stretch their items to equal heights by default)."""
    layout = widgets.Layout(height="auto", max_width="100%", object_fit="contain", align_self="flex-start",
                            display="none")  # hidden until it has a picture: no broken-image icon
    extra = {"width": str(width)} if width else {}
    return tagged(widgets.Image(format="png", layout=layout, **extra), css_class)


def show_png(widget: widgets.Image, data: bytes) -> None:
    """Show ``data`` in ``widget``, or hide the widget when there is nothing to show."""
    widget.value = data
    widget.layout.display = None if data else "none"


def wrapping_row(children: Sequence[widgets.Widget]) -> widgets.HBox:
    """A row whose items keep their own heights and wrap onto the next line on a narrow screen (a projector)."""
    return widgets.HBox(list(children), layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))


def status_html(text: str) -> str:
    """``text`` for an HTML status widget: escaped, and wrapping instead of being cut off at the widget's edge."""
    return f'<span style="white-space: normal; line-height: 1.4">{html.escape(text)}</span>'


def choice_buttons(options: Sequence[str], value: str, description: str) -> widgets.ToggleButtons:
    """Toggle buttons whose chosen option also carries a check mark (the chosen button's grey is hard to see)."""
    buttons = widgets.ToggleButtons(options=list(options), value=value, description=description,
                                    style={"button_width": "92px"})

    def mark(_change: Any = None) -> None:
        buttons.icons = ["check" if option == buttons.value else "" for option in buttons.options]

    buttons.observe(mark, names="value")
    mark()
    return buttons


def sent_at() -> float | None:
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


def probe_pace(weights: str) -> float:
    """Seconds per step per million pixels: one timed forward-backward pass of VGG19 at ``PROBE_SIZE`` px.

    A step of a run is one such pass to the deepest loss layer; its cost grows with the pixels. The first pass of a
    fresh process pays for set-up, so the second one is timed.
    """
    model = load_vgg(weights)
    image = torch.rand(1, 3, PROBE_SIZE, PROBE_SIZE, generator=torch.Generator().manual_seed(0)).requires_grad_()
    for _ in range(2):
        start = time.perf_counter()
        features = model(image, [*STYLE_LAYERS, "relu4_2"])
        sum(feature.float().mean() for feature in features.values()).backward()
        seconds = time.perf_counter() - start
    return seconds / (PROBE_SIZE**2 / 1e6)


def describe_seconds(seconds: float) -> str:
    """A rough duration a person reads at a glance: "4 s", "about 40 s", "about 3 min"."""
    if seconds < 10:
        return f"{max(1, round(seconds))} s"
    if seconds < 90:
        return f"about {round(seconds, -1):.0f} s"
    return f"about {seconds / 60:.0f} min"


class FirstView:
    """Mixin for a widget: its display carries a PNG preview and a line of text beside the live widget view.

    ipywidgets 8 asks ``_repr_mimebundle_``; ipywidgets 7 calls ``_ipython_display_``; both are answered here.
    """

    name = "Experiment"

    def __repr__(self) -> str:
        return f"{self.name}: an interactive experiment (run this cell to use it)"

    def preview(self) -> bytes:
        """PNG bytes of what the experiment shows before anything is changed."""
        raise NotImplementedError

    def _repr_mimebundle_(self, **_kwargs: Any) -> dict[str, Any]:
        bundle = {"text/plain": repr(self), "image/png": self.preview()}
        if getattr(self, "_view_name", None) is not None:
            bundle[VIEW_MIME] = {"version_major": 2, "version_minor": 0, "model_id": self.model_id}
        return bundle

    if IPYWIDGETS_MAJOR < 8:  # ipywidgets 7 displays a widget through this method, and IPython prefers it

        def _ipython_display_(self, **kwargs: Any) -> None:
            display(self._repr_mimebundle_(), raw=True)
            self._handle_displayed(**kwargs)


def preview_figure(panels: Sequence[tuple[str, Any]], title: str, panel_inches: float = 2.4) -> bytes:
    """A one-row picture of ``(caption, image)`` panels under ``title``, as a small PNG (a few tens of KB).

    An image is a tensor (1, 3, H, W) or a 2-D array (drawn with a colour map, like a feature map).
    """
    from PIL import Image

    figure = Figure(figsize=(panel_inches * len(panels), 0.9 * panel_inches + 0.5))
    axes = np.atleast_1d(figure.subplots(1, len(panels)))
    for ax, (caption, image) in zip(axes, panels, strict=True):
        ax.imshow(image, cmap="viridis") if isinstance(image, np.ndarray) else ax.imshow(tensor_to_pil(image))
        ax.set_title(caption, fontsize=9)
        ax.axis("off")
    figure.suptitle(f"{title}: run this cell to use it", fontsize=11)
    figure.tight_layout()
    picture = Image.open(io.BytesIO(png_bytes(figure, dpi=90))).convert("RGB").quantize(colors=128)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


class Experiment(FirstView, widgets.VBox):
    """What every optimizing experiment shares: Run and Stop, progress, status, estimate, live image, loss plot.

    Subclasses say which settings the controls ask for (:meth:`settings`) and how to optimize with them
    (:meth:`_optimize`). After a run, ``last_result`` is its :class:`~nst_helpers.Result` and ``last_settings`` the
    settings the optimizer really used; ``runs`` counts the runs started; ``status_text`` is the status line.

    A second click during a run must not start a second run. The button is disabled while a run goes, but a click
    made before the browser heard of that can wait in the kernel's queue until the run ends. So the browser's time
    stamp on each click is compared with the span of the last run, measured from its own click.
    """

    loss_terms: Sequence[str] | None = None  # the loss plot's terms (None: all)

    def __init__(self, controls: Sequence[widgets.Widget], *, weights: str, image_width: int = 256) -> None:
        self.weights = weights
        self.run_button = tagged(widgets.Button(description="Run", button_style="primary", icon="play"), "nst-run")
        self.stop_button = tagged(widgets.Button(description="Stop", icon="stop", disabled=True,
                                                 tooltip="End the run and keep the best image so far"), "nst-stop")
        self.progress = tagged(widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="200px")),
                               "nst-progress")
        self.status = tagged(widgets.HTML(layout=widgets.Layout(width="auto")), "nst-status")
        self.estimate = tagged(widgets.HTML(layout=widgets.Layout(width="auto")), "nst-estimate")
        self.image_widget = image_widget("nst-result", image_width)
        self.loss_widget = image_widget("nst-loss-plot")
        self.output = tagged(widgets.Output(), "nst-output")
        self.status_text = ""
        self.last_result: Result | None = None
        self.last_settings: StyleSettings | None = None
        self.runs = 0
        self._running = self._stop_requested = False
        self._click: tuple[float, float] | None = None  # (browser time stamp, time.monotonic()) of the run's click
        self._busy_until = -math.inf  # browser time at which the last run started by a click ended
        self._started = 0.0
        self._ticks: list[tuple[int, float]] = []  # (step, time) of each update of the running run
        self._steps: list[int] = []
        self._losses: dict[str, list[float]] = {}
        self.run_button.on_click(self._clicked)
        self.stop_button.on_click(lambda _button: self.stop())
        super().__init__(children=[
            *controls, self.estimate,
            widgets.HBox([self.run_button, self.stop_button, self.progress]),
            self.status,
            wrapping_row([self.image_widget, self.loss_widget]),
            self.output,
        ])
        self.say("Choose the settings, then press Run.")

    def say(self, text: str) -> None:
        """Show ``text`` as the status line."""
        self.status_text = text
        self.status.value = status_html(text)

    def settings(self) -> StyleSettings:
        """The settings the controls ask for."""
        raise NotImplementedError

    def _optimize(self, settings: StyleSettings, callback: Callback, every: int) -> Result:
        raise NotImplementedError

    def scales(self, settings: StyleSettings) -> list[tuple[int, int]]:
        """``(working size, steps)`` of each scale a run with ``settings`` goes through."""
        return [(scale.size, scale.steps) for scale in plan_scales(settings, max(settings.size, MIN_WORKING_SIZE))]

    def planned_steps(self, settings: StyleSettings) -> int:
        """Steps of a run at every scale (large results start at half size with a quarter of the steps)."""
        return sum(steps for _size, steps in self.scales(settings))

    def estimated_seconds(self, settings: StyleSettings) -> float:
        """set-up + pace x megapixel-steps, measured on this machine: by the last finished run, else a timed probe."""
        if self.weights not in _pace:
            _pace[self.weights] = (probe_pace(self.weights), 0.0)
        pace, setup = _pace[self.weights]
        return setup + pace * sum(size**2 * steps for size, steps in self.scales(settings)) / 1e6

    def _measure_pace(self, settings: StyleSettings, seconds: float) -> None:
        """Learn the pace from a finished one-scale run: its steps between the first and last update, and the rest."""
        scales = self.scales(settings)
        (first, started), (last, ended) = self._ticks[0], self._ticks[-1]
        if len(scales) != 1 or last - first < 2:
            return
        per_step = (ended - started) / (last - first)
        setup = max(0.0, seconds - per_step * scales[0][1])
        _pace[self.weights] = (per_step / (scales[0][0] ** 2 / 1e6), setup)

    def watch(self, *controls: widgets.Widget) -> None:
        """Update the time estimate whenever one of ``controls`` changes."""
        for control in controls:
            control.observe(lambda _change: self.update_estimate(), names="value")
        self.update_estimate()

    def update_estimate(self) -> None:
        """Show how long a run with the current settings will take (before it starts), with advice when long."""
        try:
            settings = self.settings()
        except NSTError:
            self.estimate.value = ""
            return
        seconds, steps = self.estimated_seconds(settings), self.planned_steps(settings)
        text = f"Estimated time: {describe_seconds(seconds)} on this machine ({steps} steps at {settings.size} px)"
        if seconds > LONG_RUN_SECONDS:
            text = f"⚠ {text}: a long run. Lower the size or steps for a quick look; Stop keeps the best image."
        self.estimate.value = status_html(text)

    def _clicked(self, _button: widgets.Button) -> None:
        sent = sent_at()
        if self._running or (sent is not None and sent < self._busy_until):
            note = " (A click made during the run was ignored.)"
            self.say(self.status_text.replace(note, "") + note)
            return
        self._running = True  # claimed now: the run itself may start a moment later, on the kernel's main thread
        self._click = (sent, time.monotonic()) if sent is not None else None
        call_interruptibly(self._run)

    def run(self) -> Result | None:
        """Optimize with the current settings and show the result; ``None`` (and the status says why) if none."""
        if self._running:
            self.say("Already running: wait for this run to end, or press Stop.")
            return None
        self._running = True
        return self._run()

    def stop(self) -> None:
        """End the running run after its current step; it keeps the best image so far."""
        if not self._running:
            return
        self._stop_requested = True
        self.say("Stopping…")
        if threading.current_thread() is not threading.main_thread():
            signal.raise_signal(signal.SIGINT)  # the run is on the main thread: interrupt it as the stop button does

    def _run(self) -> Result | None:
        self.run_button.disabled, self.stop_button.disabled = True, False
        self.runs += 1
        self.output.outputs = ()  # each run starts with no old messages
        result, caught = None, []
        try:
            result, caught = self._optimize_with_settings()
        except NSTError as error:  # a learner's choice: one line
            self.say(f"{error}")
        except KeyboardInterrupt:  # a stop that came before the optimizer started
            self.say("Stopped before the first step: nothing to show.")
        except Exception as error:  # a bug: one line, and the details below for a report
            self.say(f"Unexpected {type(error).__name__}: {error} (details below)")
            self.output.append_stderr(traceback.format_exc())
        finally:
            if self._click:
                sent, handled = self._click
                self._busy_until, self._click = sent + time.monotonic() - handled, None
            self._running = self._stop_requested = False
            self.run_button.disabled, self.stop_button.disabled = False, True
        shown = [w for w in caught if not (result and result.interrupted and "interrupted" in str(w.message))]
        if shown:  # the status already says when a run was stopped
            self.output.append_stderr("".join(f"{w.category.__name__}: {w.message}\n" for w in shown))
        if result is not None:
            self._show_result(result)
        return result

    def _optimize_with_settings(self) -> tuple[Result, list[warnings.WarningMessage]]:
        settings = self.settings()
        self.progress.max, self.progress.value = self.planned_steps(settings), 0
        self._steps, self._losses = [], {}
        estimate = describe_seconds(self.estimated_seconds(settings))
        self.say(f"Running (estimated {estimate})… Stop ends the run and keeps the best image.")
        self._started, self._ticks = time.perf_counter(), []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = self._optimize(settings, self._show_progress, max(1, self.progress.max // UPDATES_PER_RUN))
        if self._ticks and not result.interrupted and not result.stopped_reason:
            self._measure_pace(settings, time.perf_counter() - self._started)
        return result, list(caught)

    def _show_progress(self, step: int, image: torch.Tensor, losses: dict[str, float]) -> None:
        """Called by the optimizer every few steps: move the bar, show the current image and the losses so far."""
        if self._stop_requested:
            raise KeyboardInterrupt  # the experiment's Stop button, seen at the next update
        self.progress.value = step
        self._ticks.append((step, time.perf_counter()))
        self._steps.append(step)
        for name, value in losses.items():
            self._losses.setdefault(name, []).append(value)
        show_png(self.image_widget, png_bytes(image.clamp(0, 1)))
        show_png(self.loss_widget, png_bytes(loss_figure(self._steps, self._losses, self.loss_terms)))
        left = (time.perf_counter() - self._started) * (self.progress.max - step) / step
        self.say(f"Step {step} of {self.progress.max}: loss {losses['total']:.4g}, {describe_seconds(left)} left")

    def _show_result(self, result: Result) -> None:
        self.last_result, self.last_settings = result, result.settings
        self.progress.value = result.steps_done
        show_png(self.image_widget, png_bytes(result.image))
        if result.history:
            figure = loss_figure(range(1, result.steps_done + 1), result.history, self.loss_terms)
            show_png(self.loss_widget, png_bytes(figure))
        loss = f", loss {result.final_loss:.4g}" if math.isfinite(result.final_loss) else ""
        if result.interrupted and result.steps_done == 0:
            self.say("Stopped before the first step finished: showing the starting image.")
        elif result.interrupted:
            self.say(f"Stopped after {result.steps_done} of {self.progress.max} steps: kept the best image{loss}.")
        elif result.stopped_reason:
            self.say(f"Stopped early ({result.stopped_reason}): showing the last good image.")
        else:
            self.say(f"Done: {result.steps_done} steps in {result.seconds:.1f} s{loss}.")
