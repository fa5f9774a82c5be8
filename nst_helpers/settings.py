"""Every option of a run, with its default, in one frozen dataclass that checks itself.

:class:`StyleSettings` is what :func:`~nst_helpers.stylize`, :func:`~nst_helpers.reconstruct_content`,
:func:`~nst_helpers.synthesize_texture`, the command line (its flags, choices and defaults) and the widgets share.
Creating one validates every option (types, ranges, finite weights, layer names, the size against the memory of the
machine, the device), so a mistake is reported in one line before any image or network is loaded. A
:class:`~nst_helpers.optimize.Result` carries the settings it ran with: ``stylize(content, style,
settings=result.settings)`` repeats the run exactly.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import torch

from .errors import SettingsError, SettingsTypeError
from .optimize import SHORT_LBFGS_HISTORY
from .vgg import CONTENT_LAYER, LAYER_NAMES, STYLE_LAYERS, WEIGHT_SOURCES

OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise", "style", "faint_noise")  # faint_noise: textures and reconstructions (notebooks 02, 03)
POOLINGS = ("max", "avg")
PRECISIONS = ("auto", "fp32", "bf16")
STATISTICS = ("gram", "sliced_wasserstein", "meanstd")  # style statistics: nst_helpers.statistics
COLOR_MODES = ("luminance", "histogram")  # preserve_colors (notebook 07, nst_helpers.control)

# Bytes one pixel of the optimized image needs: 1.9 KB of VGG19 activations for a forward-backward pass and 3.2 KB of
# L-BFGS history (100 pairs of float32 vectors, pyramid levels included: safe for any lbfgs_history up to 100);
# measured in benchmarks/README.md.
BYTES_PER_PIXEL = 5_100
MEMORY_SHARE = 0.75  # of the device's memory a run may plan to use; the rest is for the system and the notebook


def total_memory(device: torch.device) -> int:
    """Bytes of memory of ``device``: the GPU's own, or the machine's RAM for the CPU (and Apple's shared memory)."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def largest_size(device: torch.device) -> int:
    """The longest side of the largest square image a run can optimize in ``MEMORY_SHARE`` of ``device``'s memory."""
    return int(math.sqrt(MEMORY_SHARE * total_memory(device) / BYTES_PER_PIXEL))


def available_devices() -> list[str]:
    """The devices this machine can run on, best first."""
    devices = [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    return [*devices, *(["mps"] if mps and mps.is_available() else []), "cpu"]


def choose_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if this machine has it, else a :class:`SettingsError` naming those it has; ``None``: the best."""
    if device is None:
        return torch.device(available_devices()[0])
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError):
        chosen = None
    names = available_devices()
    if chosen is None or not _device_exists(chosen):
        raise SettingsError(f"device={device!r} is not available here; choose one of: {', '.join(names)}")
    return chosen


def _device_exists(device: torch.device) -> bool:
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
    mps = getattr(torch.backends, "mps", None)
    return device.type == "mps" and bool(mps and mps.is_available())


class LayerWeights(Mapping[str, float]):
    """An unchangeable ``{layer: weight}`` (a frozen settings object must not change when the caller's dict does)."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        self._weights = dict(weights)

    def __getitem__(self, name: str) -> float:
        return self._weights[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._weights)

    def __len__(self) -> int:
        return len(self._weights)

    def __hash__(self) -> int:
        return hash(tuple(self._weights.items()))

    def __repr__(self) -> str:
        return repr(self._weights)


@dataclass(frozen=True)
class StyleSettings:
    """The options of one run. Weights are for the relative losses (notebook 04): one set serves every size."""

    content_weight: float = 1.0  # alpha
    style_weight: float = 30.0  # beta
    tv_weight: float = 10.0  # gamma, total variation (not in the paper): a light touch against pixel noise
    content_layer: str = CONTENT_LAYER
    style_layers: Sequence[str] | Mapping[str, float] = STYLE_LAYERS  # names (equal weights) or {name: weight}
    style_blend: Sequence[float] | None = None  # one weight per style image; None: equal
    style_scale: float = 1.0  # style image pixels = style_scale**2 x the result's
    size: int | None = 512  # longest side of the result; None: the content's own
    steps: int | Sequence[int] = 200  # forward-backward passes at the last scale, or one count per scale
    optimizer: str = "lbfgs"
    lr: float | None = None  # None: 1 for L-BFGS, 0.02 for Adam
    lbfgs_history: int = SHORT_LBFGS_HISTORY  # curvature pairs L-BFGS keeps (the textbook loop: PyTorch's 100)
    init: str = "content"
    weights: str = "original"  # VGG19 weight source
    pooling: str = "max"
    scales: Sequence[float] | None = None  # coarse-to-fine fractions of size ending in 1; None: automatic
    pyramid_levels: int | None = None  # 1: the pixels; None: automatic
    precision: str = "auto"
    seed: int = 0
    device: str | None = None  # None: the best available
    textbook: bool = False  # True: the notebooks' plain loop, no speed-ups or guards
    size_limit: int | None = None  # largest longest side allowed; None: from the device's memory
    statistic: str = "gram"  # what the style loss matches: Gram matrices, feature distributions, or means and stds
    preserve_colors: str | None = None  # keep the content's colours: "luminance" or "histogram"; None: the style's

    def __post_init__(self) -> None:
        _check_weights(self)
        _check_names(self)
        _check_counts(self)
        _check_size(self)
        for name in ("style_blend", "scales", "steps", "style_layers"):  # lists become tuples: settings never change
            value = getattr(self, name)
            if isinstance(value, Sequence) and not isinstance(value, str | tuple):
                object.__setattr__(self, name, tuple(value))
        if isinstance(self.style_layers, Mapping) and not isinstance(self.style_layers, LayerWeights):
            object.__setattr__(self, "style_layers", LayerWeights(self.style_layers))

    def replace(self, **changes: Any) -> StyleSettings:
        """A copy with some options changed (validated again)."""
        return replace(self, **changes)

    @classmethod
    def from_options(cls, base: StyleSettings | None = None, **options: Any) -> StyleSettings:
        """``base`` (default settings if ``None``) with ``options`` changed; unknown names get a suggestion."""
        known = [item.name for item in fields(cls)]
        for name in options:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; the options are: {', '.join(known)}"
                raise SettingsTypeError(f"unknown option {name!r}{hint}")
        return replace(base, **options) if base is not None else cls(**options)

    def as_dict(self) -> dict[str, Any]:
        """The options as plain values, e.g. to print or store next to a result."""
        return {item.name: getattr(self, item.name) for item in fields(self)}


def _number(name: str, value: Any, *, low: float | None = 0.0, allow_none: bool = False) -> None:
    """A finite real number (bools are refused), at least ``low``."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SettingsTypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number, got {value}")
    if low is not None and value < low:
        raise SettingsError(f"{name} must be at least {low:g}, got {value}")


def _count(name: str, value: Any, *, low: int, allow_none: bool = False) -> None:
    """A whole number (not a bool or a float) of at least ``low``."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise SettingsTypeError(f"{name} must be a whole number, got {value!r} ({type(value).__name__})")
    if value < low:
        raise SettingsError(f"{name} must be at least {low}, got {value}")


def _choice(name: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def named_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    """Like :func:`_choice`, with a did-you-mean for a near miss or the start of a name."""
    if value not in choices:
        close = [c for c in choices if c.startswith(str(value))] or difflib.get_close_matches(str(value), choices, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SettingsError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}{hint}")


def _layer(name: str, value: Any) -> None:
    if value not in LAYER_NAMES:
        close = difflib.get_close_matches(str(value), LAYER_NAMES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; names look like relu4_2, conv4_2 or pool4"
        raise SettingsError(f"{name}: unknown VGG19 layer {value!r}{hint}")


def _check_weights(settings: StyleSettings) -> None:
    for name in ("content_weight", "style_weight", "tv_weight", "style_scale"):
        _number(name, getattr(settings, name))
    if settings.style_scale <= 0:
        raise SettingsError(f"style_scale must be above 0, got {settings.style_scale}")
    _number("lr", settings.lr, allow_none=True)
    if settings.lr is not None and settings.lr <= 0:
        raise SettingsError(f"lr must be above 0, got {settings.lr}")
    if settings.style_blend is not None:
        blend = _sequence("style_blend", settings.style_blend)
        for value in blend:
            _number("style_blend", value)
        if sum(blend) <= 0:
            raise SettingsError(f"style_blend needs at least one weight above 0, got {list(blend)}")
    layers = settings.style_layers
    weights = layers.values() if isinstance(layers, Mapping) else [1.0] * len(_sequence("style_layers", layers))
    for value in weights:
        _number("style_layers weight", value)
    if not weights or sum(weights) <= 0:
        raise SettingsError(f"style_layers needs at least one layer with a weight above 0, got {layers!r}")


def _check_names(settings: StyleSettings) -> None:
    _choice("optimizer", settings.optimizer, OPTIMIZERS)
    _choice("init", settings.init, INITS)
    _choice("weights", settings.weights, WEIGHT_SOURCES)
    _choice("pooling", settings.pooling, POOLINGS)
    _choice("precision", settings.precision, PRECISIONS)
    named_choice("statistic", settings.statistic, STATISTICS)
    if settings.preserve_colors is not None:
        _choice("preserve_colors", settings.preserve_colors, COLOR_MODES)
    _layer("content_layer", settings.content_layer)
    for layer in settings.style_layers:
        _layer("style_layers", layer)
    if not isinstance(settings.textbook, bool):
        raise SettingsTypeError(f"textbook must be True or False, got {settings.textbook!r}")
    choose_device(settings.device)


def _check_counts(settings: StyleSettings) -> None:
    _count("seed", settings.seed, low=0)
    _count("lbfgs_history", settings.lbfgs_history, low=1)
    _count("pyramid_levels", settings.pyramid_levels, low=1, allow_none=True)
    steps = settings.steps
    for value in steps if isinstance(steps, Sequence) and not isinstance(steps, str) else [steps]:
        _count("steps", value, low=1)
    if settings.scales is not None:
        scales = list(_sequence("scales", settings.scales))
        for value in scales:
            _number("scales", value)
        if not scales or any(not 0 < s <= 1 for s in scales) or scales != sorted(scales) or scales[-1] != 1:
            raise SettingsError(f"scales must increase, lie in (0, 1] and end with 1, e.g. (0.5, 1); got {scales}")
        if not isinstance(steps, numbers.Integral) and len(steps) != len(scales):
            raise SettingsError(f"steps has {len(steps)} entries but scales has {len(scales)}; give one per scale")
    elif not isinstance(steps, numbers.Integral) and len(steps) != 1:
        raise SettingsError(f"steps has {len(steps)} entries but there is one scale; give a number or set scales")


def _check_size(settings: StyleSettings) -> None:
    _count("size", settings.size, low=1, allow_none=True)
    _count("size_limit", settings.size_limit, low=1, allow_none=True)
    limit = settings.size_limit or largest_size(choose_device(settings.device))
    if settings.size is None:  # the content's own size: checked once the content is loaded
        return
    for name, side in (("size", settings.size), ("size x style_scale", settings.size * settings.style_scale)):
        if side > limit:
            raise SettingsError(
                f"{name} = {side:g} px is more than the largest size that fits in this device's memory, about "
                f"{limit} px; choose a smaller size (or set size_limit if you know it fits)"
            )


def _sequence(name: str, value: Any) -> Sequence[Any]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise SettingsTypeError(f"{name} must be a list or tuple, got {value!r} ({type(value).__name__})")
    return value
