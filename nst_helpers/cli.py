"""Command line: ``python -m nst_helpers stylize CONTENT STYLE [STYLE ...] -o OUT`` and ``python -m nst_helpers demo``.

Bad input ends with a one-line message and exit status 2 (no traceback); an interrupt (Ctrl-C) saves the best image
so far and exits with status 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import NSTError
from .vgg import WEIGHT_SOURCES

DEMO_CONTENT, DEMO_STYLE = "chelsea", "brushstrokes"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _common_options(parser: argparse.ArgumentParser, *, size: int, steps: int) -> None:
    parser.add_argument("-o", "--output", type=Path, help="where to write the result (.png or .jpg)")
    parser.add_argument("--size", type=_positive_int, default=size, help=f"longest side in pixels (default {size})")
    parser.add_argument("--steps", type=_positive_int, default=steps, help=f"forward-backward passes (default {steps})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 or mps (default: best available)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nst_helpers", description="Neural style transfer (Gatys et al.).")
    commands = parser.add_subparsers(dest="command", required=True)

    stylize = commands.add_parser("stylize", help="render a content image in the style of one or more style images")
    stylize.add_argument("content", help="content image: a file path or an http(s) URL")
    stylize.add_argument("styles", nargs="+", metavar="style", help="one or more style images (path or URL)")
    _common_options(stylize, size=512, steps=200)
    stylize.add_argument("--content-weight", type=float, default=None, help="weight of the content loss")
    stylize.add_argument("--style-weight", type=float, default=None, help="weight of the style loss")
    stylize.add_argument("--tv-weight", type=float, default=None, help="weight of the total variation loss")
    stylize.add_argument("--style-blend", type=float, nargs="+", default=None, help="one mixing weight per style")
    stylize.add_argument("--style-scale", type=float, default=1.0, help="style image size relative to --size")
    stylize.add_argument("--weights", choices=WEIGHT_SOURCES, default="original", help="VGG19 weight source")
    stylize.add_argument("--pooling", choices=("max", "avg"), default="max")
    stylize.add_argument("--init", choices=("content", "noise", "style"), default="content")
    stylize.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
    stylize.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto")
    stylize.add_argument("--pyramid-levels", type=_positive_int, default=None, metavar="L",
                         help="optimize an image pyramid of L levels (1: the pixels; default: 1 below 512 px, "
                              "from 512 px on halvings down to 32 px, 5 levels at 512)")
    stylize.add_argument("--scales", type=float, nargs="+", default=None, metavar="S",
                         help="coarse-to-fine: fractions of --size ending in 1, e.g. 0.5 1; --steps is the last "
                              "scale's, each coarser one takes a quarter (default: 0.5 1 from 1024 px, else one scale)")
    stylize.add_argument("--save-every", type=_positive_int, default=None, metavar="N",
                         help="also save the image every N steps as OUT_stepN.png")

    demo = commands.add_parser("demo", help="stylize a shipped example offline and write the result")
    _common_options(demo, size=256, steps=150)
    return parser


def _default_output(content: str) -> Path:
    stem = Path(content).stem if "://" not in content else "result"
    return Path(f"{stem}_stylized.png")


def _run(args: argparse.Namespace) -> int:
    from .data import load_example
    from .images import refuse_to_overwrite_inputs, resize_longest_side, save_image
    from .transfer import CONTENT_WEIGHT, stylize

    if args.command == "demo":
        content, styles, inputs = load_example(DEMO_CONTENT), [load_example(DEMO_STYLE)], []
        output = args.output or Path("nst_demo.png")
        options = {}
        print(f"Stylizing the example '{DEMO_CONTENT}' in the style '{DEMO_STYLE}' at {args.size} px, {args.steps} "
              "steps (offline, on the CPU this takes a minute or two)...")
    else:
        content, styles, inputs = args.content, list(args.styles), [args.content, *args.styles]
        output = args.output or _default_output(args.content)
        options = {
            "content_weight": CONTENT_WEIGHT if args.content_weight is None else args.content_weight,
            "style_weight": args.style_weight, "tv_weight": args.tv_weight, "style_blend": args.style_blend,
            "style_scale": args.style_scale, "weights": args.weights, "pooling": args.pooling, "init": args.init,
            "optimizer": args.optimizer, "precision": args.precision, "pyramid_levels": args.pyramid_levels,
            "scales": args.scales,
        }
    protected = [p for p in inputs if "://" not in p]
    if output.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"):
        raise NSTError(f"output {output} needs an image suffix such as .png or .jpg")
    refuse_to_overwrite_inputs(output, protected)  # now, not after minutes of optimization
    save_every = getattr(args, "save_every", None)

    def save_progress(step: int, image, losses) -> None:
        if save_every and step % save_every == 0:  # small results are optimized larger: save at the size asked for
            shown = resize_longest_side(image, args.size) if max(image.shape[-2:]) > args.size else image
            save_image(shown, output.with_name(f"{output.stem}_step{step}.png"), protect=protected)

    result = stylize(content, styles, size=args.size, steps=args.steps, seed=args.seed, device=args.device,
                     progress=not args.quiet, callback=save_progress if save_every else None,
                     every=save_every, **options)
    path = save_image(result.image, output, protect=protected)
    print(f"Saved {path.resolve()} ({result.steps_done} steps in {result.seconds:.1f} s, "
          f"final loss {result.final_loss:.4g})")
    if result.interrupted:
        print("Interrupted: saved the best image so far.", file=sys.stderr)
        return 130
    if result.stopped_reason:
        print(f"Stopped early: {result.stopped_reason}.", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (NSTError, ValueError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 2
