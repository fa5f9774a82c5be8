"""Command line: ``python -m nst_helpers stylize CONTENT STYLE [STYLE ...] -o OUT``, ``python -m nst_helpers inpaint
IMAGE MASK -o OUT`` and ``python -m nst_helpers demo``.

Every option of :class:`~nst_helpers.settings.StyleSettings` is a flag, with its choices and default taken from it.
Options and the output path are checked before anything is loaded. Bad input ends with a one-line message and exit
status 2 (no traceback); Ctrl-C ends with one line and status 130, and saves the best image if a run had started.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from .errors import NSTError
from .settings import COLOR_MODES, INITS, OPTIMIZERS, POOLINGS, PRECISIONS, STATISTICS, StyleSettings
from .vgg import WEIGHT_SOURCES

DEMO_CONTENT, DEMO_STYLE = "chelsea", "brushstrokes"
DEMO_DEFAULTS = {"size": 256, "steps": 150}
INPAINT_DEFAULTS = {"size": None, "steps": 100, "init": "noise", "content_layer": "relu2_1", "tv_weight": 10.0}
CHOICES = {"optimizer": OPTIMIZERS, "init": INITS, "weights": WEIGHT_SOURCES, "pooling": POOLINGS,
           "precision": PRECISIONS, "statistic": STATISTICS, "preserve_colors": COLOR_MODES}
LISTS = {"style_layers": str, "style_blend": float, "scales": float, "steps": int}
METAVARS = {"style_layers": "LAYER", "style_blend": "W", "scales": "S", "steps": "N", "pyramid_levels": "L"}
NUMBERS = {"content_weight": float, "style_weight": float, "tv_weight": float, "style_scale": float, "lr": float,
           "size": int, "seed": int, "pyramid_levels": int, "size_limit": int, "lbfgs_history": int}
HELP = {
    "content_weight": "weight of the relative content loss (alpha)",
    "style_weight": "weight of the relative style loss (beta)",
    "tv_weight": "weight of the total variation loss (gamma)",
    "content_layer": "VGG19 layer of the content loss",
    "style_layers": "VGG19 layers of the style loss, equal weights",
    "style_blend": "one mixing weight per style image (default: equal weights)",
    "style_scale": "style image size relative to --size",
    "size": "longest side of the result in pixels",
    "steps": "forward-backward passes at the last scale (or one count per scale)",
    "optimizer": "optimizer",
    "lr": "learning rate (default: 1 for lbfgs, 0.02 for adam)",
    "lbfgs_history": "curvature pairs L-BFGS keeps (PyTorch's default is 100; fewer: faster steps)",
    "init": "starting image",
    "weights": "VGG19 weight source",
    "pooling": "pooling layers of VGG19",
    "scales": "coarse-to-fine: fractions of --size ending in 1, e.g. 0.5 1 (default: 0.5 1 from 1024 px with lbfgs)",
    "pyramid_levels": "optimize an image pyramid of L levels, 1: the pixels (default: automatic from 512 px)",
    "precision": "compute precision of the network (auto: bf16 where the hardware has it)",
    "seed": "seed of the run's own random generator",
    "device": "cpu, cuda, cuda:1 or mps (default: the best available)",
    "textbook": "run the notebooks' plain loop without speed-ups or guards",
    "size_limit": "largest --size allowed (default: from the device's memory)",
    "statistic": "what the style loss matches: gram, sliced_wasserstein or meanstd",
    "preserve_colors": "keep the content's colours: transfer lightness only, or recolour the style first "
                       "(default: the style's colours)",
}


OVERWRITE_HELP = "replace an existing output file that nst_helpers did not write (default: off)"
QUIET_HELP = "no progress bar (default: off)"


def add_settings_options(parser: argparse.ArgumentParser, defaults: StyleSettings) -> None:
    """One flag per field of :class:`StyleSettings`, with its choices and its default."""
    for item in fields(StyleSettings):
        name, default = item.name, getattr(defaults, item.name)
        flag = "--" + name.replace("_", "-")
        shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
        # Options whose default is None describe it in words (e.g. "default: the best available") instead.
        text = HELP[name] if "(default: " in HELP[name] else f"{HELP[name]} (default: {shown})"
        if name == "textbook":
            parser.add_argument(flag, action="store_true", help=text)
        elif name in LISTS:
            parser.add_argument(flag, type=LISTS[name], nargs="+", default=None, metavar=METAVARS[name], help=text)
        else:
            parser.add_argument(flag, type=NUMBERS.get(name, str), choices=CHOICES.get(name), default=None,
                                metavar=METAVARS.get(name), help=text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nst_helpers", description="Neural style transfer (Gatys et al.).")
    commands = parser.add_subparsers(dest="command", required=True)
    stylize = commands.add_parser("stylize", help="render a content image in the style of one or more style images")
    stylize.add_argument("content", help="content image: a file path or an http(s) URL")
    stylize.add_argument("styles", nargs="+", metavar="style", help="one or more style images (path or URL)")
    # A str, not a Path: Path("http://x/y.png") is "http:/x/y.png", which would hide the URL from the output check.
    stylize.add_argument("-o", "--output", help="where to write the result (default: CONTENT_stylized.png)")
    stylize.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    stylize.add_argument("--save-every", type=int, default=None, metavar="N",
                         help="also save the image every N steps as OUT_stepN.png (default: never)")
    stylize.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    stylize.add_argument("--mask", action="append", dest="masks", default=None, metavar="FILE",
                         help="where each style goes (white = its region): once per style, in the styles' order "
                              "(default: none, one style everywhere)")
    add_settings_options(stylize, StyleSettings())
    inpaint = commands.add_parser("inpaint", help="fill the white part of MASK with the texture of the rest of IMAGE")
    inpaint.add_argument("content", metavar="image", help="the image with a hole: a file path or an http(s) URL")
    inpaint.add_argument("mask", help="the hole: an image file, white = fill")
    inpaint.add_argument("--source", default=None, help="take the texture from this image instead (default: IMAGE)")
    inpaint.add_argument("-o", "--output", help="where to write the result (default: IMAGE_inpainted.png)")
    inpaint.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    inpaint.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    add_settings_options(inpaint, StyleSettings(**INPAINT_DEFAULTS))
    demo = commands.add_parser("demo", help="stylize a shipped example offline and write the result")
    demo.add_argument("-o", "--output", help="where to write the result (default: nst_demo.png)")
    demo.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    demo.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    add_settings_options(demo, StyleSettings(**DEMO_DEFAULTS))
    return parser


def settings_from_args(args: argparse.Namespace) -> StyleSettings:
    """The :class:`StyleSettings` the flags ask for (unset flags keep the defaults); validated on creation."""
    options: dict[str, Any] = {"demo": DEMO_DEFAULTS, "inpaint": INPAINT_DEFAULTS}.get(args.command, {}).copy()
    for item in fields(StyleSettings):
        value = getattr(args, item.name)
        if value is not None and value is not False:
            options[item.name] = value[0] if item.name == "steps" and len(value) == 1 else value
    return StyleSettings(**options)


def _default_output(args: argparse.Namespace) -> Path:
    if args.command == "demo":
        return Path("nst_demo.png")
    suffix = "inpainted" if args.command == "inpaint" else "stylized"
    return Path(f"{Path(args.content).stem if '://' not in args.content else 'result'}_{suffix}.png")


def _progress_saver(args: argparse.Namespace, output: Path, inputs: list[str]) -> Any:
    """A callback that saves every ``--save-every`` steps at the size asked for (small results run larger)."""
    from .images import resize_longest_side, save_image

    every = getattr(args, "save_every", None)
    if not every:
        return None
    size = getattr(args, "size", None)

    def save_progress(step: int, image: Any, losses: Any) -> None:
        if step % every == 0:
            shown = resize_longest_side(image, size) if size and max(image.shape[-2:]) > size else image
            save_image(shown, output.with_name(f"{output.stem}_step{step}.png"), overwrite=args.overwrite,
                       protect=inputs)

    return save_progress


def save_or_rescue(image: Any, output: Path, *, overwrite: bool, inputs: list[str]) -> Path:
    """Save the result; if that fails after the run, save it to a temporary file instead, so nothing is lost."""
    from .images import save_image

    try:
        return save_image(image, output, overwrite=overwrite, protect=inputs)
    except (OSError, NSTError) as error:
        handle, name = tempfile.mkstemp(prefix="nst_result_", suffix=".png")
        os.close(handle)
        rescue = Path(name)
        save_image(image, rescue, overwrite=True)
        print(f"error: could not save {output} ({error}); the result is in {rescue}", file=sys.stderr)
        return rescue


class LastShown:
    """A stylize callback that keeps the newest image the run showed (clamped), for a Ctrl-C between its scales."""

    def __init__(self, then: Any = None) -> None:
        self.then, self.step, self.image = then, 0, None

    def __call__(self, step: int, image: Any, losses: Any) -> None:
        self.step, self.image = step, image.detach().cpu()
        if self.then is not None:
            self.then(step, image, losses)


def _stylize(args: argparse.Namespace, settings: StyleSettings, output: Path, inputs: list[str]) -> Any:
    """Run :func:`~nst_helpers.transfer.stylize` as the flags say; its warnings come back as one line each."""
    from .data import load_example
    from .transfer import stylize

    if args.command == "demo":
        content, styles = load_example(DEMO_CONTENT), [load_example(DEMO_STYLE)]
        print(f"Stylizing the example '{DEMO_CONTENT}' in the style '{DEMO_STYLE}' at {settings.size} px, "
              f"{settings.steps} steps (offline; on a CPU this takes a minute or two)...", flush=True)
    else:
        content, styles = args.content, list(getattr(args, "styles", []))
    shown = LastShown(_progress_saver(args, output, inputs))
    try:
        with warnings.catch_warnings(record=True) as caught:  # the filters stay as they are; only the display changes
            if args.command == "inpaint":
                from .inpainting import inpaint

                result = inpaint(args.content, args.mask, source=args.source, settings=settings,
                                 progress=not args.quiet, callback=shown)
            else:
                result = stylize(content, styles, settings, masks=getattr(args, "masks", None),
                                 progress=not args.quiet, callback=shown, every=getattr(args, "save_every", None))
    except KeyboardInterrupt:
        if shown.image is None:
            raise
        return None, shown  # stopped between two scales of a coarse-to-fine run: keep what was shown last
    for warning in caught:  # the interrupt has its own line below
        if not (result.interrupted and "interrupted after" in str(warning.message)):
            print(f"warning: {warning.message}", file=sys.stderr)
    return result, shown


def _save(image: Any, output: Path, args: argparse.Namespace, inputs: list[str]) -> Path | None:
    """:func:`save_or_rescue`; ``None`` after a Ctrl-C while saving (the atomic write leaves no half file)."""
    try:
        return save_or_rescue(image, output, overwrite=args.overwrite, inputs=inputs)
    except KeyboardInterrupt:
        print("Interrupted while saving: the result was not saved.", file=sys.stderr)
        return None


def _run(args: argparse.Namespace) -> int:
    from .images import check_output_path, resize_longest_side

    settings = settings_from_args(args)
    inputs = [] if args.command == "demo" else [
        args.content, *getattr(args, "styles", []), *(getattr(args, "masks", None) or []),
        *[getattr(args, name, None) for name in ("mask", "source") if getattr(args, name, None)]]
    output = check_output_path(args.output or _default_output(args), overwrite=args.overwrite, protect=inputs)
    result, shown = _stylize(args, settings, output, inputs)
    if result is None:
        image = shown.image
        if settings.size and max(image.shape[-2:]) > settings.size:
            image = resize_longest_side(image, settings.size)
        path = _save(image, output, args, inputs)
        if path is not None:
            print(f"Saved {path.resolve()} (the image shown at step {shown.step})")
            print("Interrupted: saved the last image shown.", file=sys.stderr)
        return 130
    path = _save(result.image, output, args, inputs)
    if path is None:
        return 130
    print(f"Saved {path.resolve()} ({result.steps_done} steps in {result.seconds:.1f} s, "
          f"final loss {result.final_loss:.4g})")
    if result.interrupted:
        print("Interrupted: saved the best image so far.", file=sys.stderr)
        return 130
    if result.stopped_reason:
        print(f"Stopped early: {result.stopped_reason}.", file=sys.stderr)
        return 1
    return 0 if path == output else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status: 0 done, 1 stopped early or saved elsewhere, 2 bad input, 130 Ctrl-C."""
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "save_every", None) is not None and args.save_every < 1:
            raise NSTError(f"--save-every must be at least 1, got {args.save_every}")
        return _run(args)
    except NSTError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted before the run started: nothing was saved.", file=sys.stderr)
        return 130
