"""Speed and quality of ``stylize`` against the textbook float32 loop and the hardware floor, on the same images.

    python benchmarks/benchmark_speed.py                      # 128, 256, 512 px on CPU (1024, 2048 too on CUDA)
    python benchmarks/benchmark_speed.py --sizes 256 --steps 30             # quicker; losses less settled
    python benchmarks/benchmark_speed.py --coarse-to-fine     # 300 pixel steps at 512 px vs pyramid, schedules
    python benchmarks/benchmark_speed.py --coarse-to-fine --size 1024 --goal-steps 80 --schedule 20 80
    python benchmarks/benchmark_speed.py --sizes 256 512 --lbfgs-history 100 20    # L-BFGS memory against the floor
    python benchmarks/benchmark_speed.py --sizes 256 512 --breakdown        # a step's parts against the floor

Everything runs in one process. Per size it prints the median milliseconds per step of the plain loop, of
``stylize`` in float32 and of ``stylize`` as configured by default (``precision="auto"``), the floor, the ratios
fast/floor and plain/fast, the peak memory of each run (CUDA: peak allocated; CPU: peak growth of the process's
resident memory, sampled every 2 ms, in a separate pass of 4 steps after all timings), and the final loss of every
result evaluated by one float32 evaluator (the textbook losses: float32, NCHW).

The plain loop is the textbook loop as the PyTorch tutorial writes it today: VGG19 as an ``nn.Sequential``, frozen with
``requires_grad_(False)`` (so no backward pass computes weight gradients), run in NCHW float32 without autocast, ``F @
F.t()`` Gram matrices, the same relative losses, L-BFGS with one evaluation per step and PyTorch's default memory of 100
curvature pairs (``stylize`` keeps 20), the same content initialization. The floor is what the hardware needs for one
step at the least: one bfloat16 (autocast, weights cast once), channels-last forward and backward pass of the frozen
VGG19 up to relu5_1, with respect to the input image only, at the size of the content image; no loss, Gram matrix or
optimizer. It is measured between the steps of each run (one pass after every second step, outside the steps' time),
since the machine's speed drifts. On a CPU the process keeps freed memory for reuse (``nst_helpers.keep_freed_memory``,
as the command line does), for every run and the floor alike; ``--default-allocator`` leaves glibc's defaults.
Measured numbers live in benchmarks/README.md.

Per-step timings compare the same optimization, on the pixels at one scale; ``--coarse-to-fine`` measures
the ways ``stylize`` takes fewer steps.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import torch
from torch import nn

from nst_helpers import (
    StyleObjective,
    StyleSettings,
    choose_device,
    load_example,
    load_vgg,
    resize_longest_side,
    resize_style,
    save_image,
    stylize,
)
from nst_helpers.allocator import keep_freed_memory
from nst_helpers.config import cpu_has_fast_bfloat16
from nst_helpers.fast import positions_first
from nst_helpers.robust import RANGE_WEIGHT, check_finite, range_penalty
from nst_helpers.schedule import COARSE_TO_FINE_FROM_SIZE, PYRAMID_FROM_SIZE
from nst_helpers.transfer import build_objective, load_run_model
from nst_helpers.vgg import CONTENT_LAYER, LAYER_NAMES, STYLE_LAYERS

DEFAULTS = StyleSettings()
WEIGHTS = {"content": DEFAULTS.content_weight, "style": DEFAULTS.style_weight, "tv": DEFAULTS.tv_weight}


def return_freed_memory_to_the_system() -> None:
    """Make glibc give freed memory back to the system, so resident memory grows with each run's own allocations.

    By default glibc's mmap threshold grows after large frees and freed tensors stay in its heap, where a later run
    would reuse them without growing the resident set. Fixing the threshold at 128 KiB (``M_MMAP_THRESHOLD``, -3)
    stops that but turns every large allocation into fresh pages (a third slower per step here), so it is set only
    for the memory pass, after all timings; ``malloc_trim(0)`` returns what the heap holds before each measurement.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc: CPU memory of later runs may then undercount
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-4, 65536)  # M_MMAP_MAX back to glibc's default, after keep_freed_memory set it to 0
        libc.mallopt(-3, 128 * 1024)
        libc.malloc_trim(0)


class PeakMemory:
    """Peak memory of a block: CUDA's allocator peak, or on CPU the peak growth of resident memory (sampled)."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.peak_bytes = device, 0

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
            return self
        return_freed_memory_to_the_system()
        self.process, self.done = psutil.Process(), threading.Event()
        self.base = self.process.memory_info().rss
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()
        return self

    def _sample(self) -> None:
        while not self.done.wait(0.002):
            self.peak_bytes = max(self.peak_bytes, self.process.memory_info().rss - self.base)

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            self.peak_bytes = torch.cuda.max_memory_allocated() - self.base
        else:
            self.done.set()
            self.sampler.join()


def content_at(size: int, device: torch.device) -> torch.Tensor:
    """The content image of every run (chelsea, not square) with its longest side ``size``, on ``device``."""
    return resize_longest_side(load_example("chelsea"), size).to(device)


def synchronize(device: torch.device) -> None:
    """Wait for queued CUDA work, so that a clock read after it counts that work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_loss_function(content: torch.Tensor, style: torch.Tensor,
                        device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    """The loss of the textbook loop as the PyTorch tutorial writes it, for comparison only (see the module docstring).

    VGG19 frozen (``requires_grad_(False)``: only the image gets a gradient), NCHW, float32, no autocast,
    ``F @ F.t()`` Gram matrices, the relative losses and default weights of ``stylize``.
    """
    model = load_vgg("original", device=device)
    deepest = max(LAYER_NAMES.index(name) for name in (*STYLE_LAYERS, CONTENT_LAYER))
    names = LAYER_NAMES[: deepest + 1]
    network = nn.Sequential(*[model.layers[name] for name in names]).eval().requires_grad_(False)
    mean = torch.tensor([103.939, 116.779, 123.68], device=device).view(1, 3, 1, 1)

    def features(image: torch.Tensor) -> dict[str, torch.Tensor]:
        x, out = image.flip(1) * 255 - mean, {}
        for name, layer in zip(names, network, strict=True):
            x = layer(x)
            out[name] = x
        return out

    def gram(feature: torch.Tensor) -> torch.Tensor:
        flat = feature.reshape(feature.shape[1], -1)
        return flat @ flat.t() / flat.shape[1]

    with torch.no_grad():
        content_target = features(content)[CONTENT_LAYER]
        style_features = features(style)
        grams = {name: gram(style_features[name]) for name in STYLE_LAYERS}
    # The same relative losses as stylize: each term divided by its target's mean square.
    content_scale = 1 / content_target.pow(2).mean()
    layer_scales = {name: 1 / len(grams) / grams[name].pow(2).mean() for name in grams}

    def loss(image: torch.Tensor) -> torch.Tensor:
        out = features(image)
        dx = image[..., :, 1:] - image[..., :, :-1]
        dy = image[..., 1:, :] - image[..., :-1, :]
        return (WEIGHTS["content"] * content_scale * (out[CONTENT_LAYER] - content_target).pow(2).mean()
                + WEIGHTS["style"] * sum(layer_scales[n] * (gram(out[n]) - grams[n]).pow(2).mean() for n in grams)
                + WEIGHTS["tv"] * (dx.pow(2).mean() + dy.pow(2).mean()))

    return loss


def plain_stylize(content: torch.Tensor, style: torch.Tensor, steps: int, device: torch.device,
                  on_step: Callable[[], None]) -> torch.Tensor:
    """The textbook loop on :func:`plain_loss_function`: L-BFGS with one evaluation per step and PyTorch's default
    memory of 100 curvature pairs, started from the content image."""
    loss_function = plain_loss_function(content, style, device)
    image = content.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([image], lr=1, max_iter=1, history_size=100, tolerance_grad=-1, tolerance_change=-1)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = loss_function(image)
        loss.backward()
        on_step()
        return loss

    for _ in range(steps):
        optimizer.step(closure)
    return image.detach().clamp(0, 1)


class FloorPass:
    """One bfloat16 channels-last forward and backward pass of the frozen VGG19 to relu5_1; calling it returns its ms.

    The weights are cast to bfloat16 once, as ``stylize`` does (autocast alone would recast them at every pass).
    The gradient is taken with respect to the input image only (the network is frozen), at the size of the content
    image. No loss beyond ``mean(relu5_1**2)``, no Gram matrix, no optimizer: the least work one step of any
    implementation does.
    """

    def __init__(self, size: int, device: torch.device, compiled: bool = False) -> None:
        self.device = device
        self.model = load_vgg("original", device=device).to(memory_format=torch.channels_last)
        self.model.layers.to(torch.bfloat16)  # cast once: autocast would recast frozen weights at every pass
        self.image = content_at(size, device).contiguous(memory_format=torch.channels_last).requires_grad_(True)
        self.loss = torch.compile(self._loss) if compiled else self._loss
        self()  # the first pass sets up kernels and memory (or compiles): keep it out of the measurements

    def _loss(self, image: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device.type, dtype=torch.bfloat16):
            feature = self.model(image, ["relu5_1"])["relu5_1"]
        return feature.float().pow(2).mean()

    def __call__(self) -> float:
        synchronize(self.device)
        start = time.perf_counter()
        torch.autograd.grad(self.loss(self.image), self.image)
        synchronize(self.device)
        return 1000 * (time.perf_counter() - start)


class StepClock:
    """A step callback that records how long each step took, leaving out the first ``warmup`` (allocator, kernels),
    and runs a floor pass after every ``floor_every``-th step, outside the steps' time.

    The machine's speed drifts by 10-15 % within minutes, so a run is compared with floor passes taken between its own
    steps, under the same conditions.
    """

    def __init__(self, device: torch.device, floor: FloorPass, warmup: int = 2, floor_every: int = 2) -> None:
        self.device, self.floor, self.warmup, self.floor_every = device, floor, warmup, floor_every
        self.steps_ms: list[float] = []
        self.floors_ms: list[float] = []
        self.calls, self.last = 0, time.perf_counter()

    def __call__(self, *_: object) -> None:
        synchronize(self.device)
        now = time.perf_counter()
        self.calls += 1
        if self.calls > self.warmup:
            self.steps_ms.append(1000 * (now - self.last))
            if self.calls % self.floor_every == 0:
                self.floors_ms.append(self.floor())
        self.last = time.perf_counter()


def timed(run: Callable[[StepClock], Any], floor: FloorPass, device: torch.device) -> tuple[Any, float, float]:
    """``run(clock)``'s result, its median step and the median of the floor passes taken between its steps."""
    clock = StepClock(device, floor)
    result = run(clock)
    return result, statistics.median(clock.steps_ms), statistics.median(clock.floors_ms)


def evaluator_for(content: torch.Tensor, style_full: torch.Tensor, device: torch.device) -> StyleObjective:
    """The float32 evaluator every result is scored by: the textbook losses (NCHW, float32), default weights."""
    style = resize_style(style_full, content, 1.0, STYLE_LAYERS).to(device)
    return StyleObjective(load_vgg("original", device=device), content=content, styles=[style], weights=WEIGHTS,
                          textbook=True)


def runs_for(size: int, device: torch.device) -> tuple[dict[str, Callable[..., torch.Tensor]], StyleObjective]:
    """The three ways to stylize one size, each ``(steps, on_step, **options) -> image``, and the float32 evaluator."""
    content = content_at(size, device)
    style_full = load_example("brushstrokes")
    style = resize_style(style_full, content, 1.0, STYLE_LAYERS).to(device)

    def with_stylize(precision: str) -> Callable[..., torch.Tensor]:
        return lambda steps, stamp, **options: stylize(
            content, style_full, size=size, steps=steps, precision=precision, device=str(device), scales=(1.0,),
            pyramid_levels=1, progress=False, every=1, callback=stamp, **options).image

    runs = {"plain": lambda steps, stamp: plain_stylize(content, style, steps, device, stamp),
            "fp32": with_stylize("fp32"), "fast": with_stylize("auto")}
    return runs, evaluator_for(content, style_full, device)


def time_size(size: int, steps: int, device: torch.device) -> dict[str, float]:
    """Median ms per step and final float32-evaluated loss of each run, and the floor measured during each run."""
    runs, evaluator = runs_for(size, device)
    floor = FloorPass(size, device)
    row: dict[str, float] = {}
    for name, run in runs.items():
        image, row[f"{name}_ms"], row[f"{name}_floor_ms"] = timed(functools.partial(run, steps), floor, device)
        with torch.no_grad():
            row[f"{name}_loss"] = evaluator(image.to(device))["total"].item()
    return row


def peak_memory_mb(size: int, device: torch.device, steps: int = 4) -> dict[str, float]:
    """Peak memory of a few steps of each run."""
    runs, _ = runs_for(size, device)
    row: dict[str, float] = {}
    for name, run in runs.items():
        with PeakMemory(device) as memory:
            run(steps, lambda *_: None)
        row[f"{name}_mb"] = memory.peak_bytes / 2**20
    return row


class Reporter:
    """Prints a result's wall time and float32 loss terms (and saves it as PNG if asked); returns the total."""

    def __init__(self, evaluator: StyleObjective, device: torch.device, save_to: str | None) -> None:
        self.evaluator, self.device, self.save_to = evaluator, device, save_to

    def __call__(self, name: str, seconds: float, image: torch.Tensor) -> float:
        with torch.no_grad():
            terms = {key: value.item() for key, value in self.evaluator(image.to(self.device)).items()}
        print(f"{name}: {seconds:6.1f} s, float32 loss {terms['total']:.4g} (content {terms['content']:.3f}, "
              f"style {terms['style']:.3f}, tv {terms['tv']:.3f})", flush=True)
        if self.save_to:
            save_image(image, Path(self.save_to) / f"{name.split(':')[0].replace(' ', '_')}.png")
        return terms["total"]


def run_with_checkpoints(content: torch.Tensor, style: torch.Tensor, size: int, device: torch.device,
                         evaluator: StyleObjective, options: dict) -> tuple[Any, float, list[tuple[int, float, float]]]:
    """The result, its seconds and (step, seconds so far, loss) every 5 steps at the final scale, all without
    evaluation time."""
    target_shape = resize_longest_side(content, size).shape[-2:]
    checkpoints: list[tuple[int, float, float]] = []
    evaluation_seconds = 0.0

    def checkpoint(step: int, image: torch.Tensor, _: dict[str, float]) -> None:
        nonlocal evaluation_seconds
        if image.shape[-2:] != target_shape:
            return
        begin = time.perf_counter()
        with torch.no_grad():
            loss = evaluator(image.to(device))["total"].item()
        checkpoints.append((step, begin - start - evaluation_seconds, loss))
        evaluation_seconds += time.perf_counter() - begin

    start = time.perf_counter()
    result = stylize(content, style, size=size, device=str(device), progress=False, every=5, callback=checkpoint,
                     **options)
    return result, time.perf_counter() - start - evaluation_seconds, checkpoints


def fewer_steps(size: int, single_steps: int, schedule: list[int], device: torch.device,
                save_to: str | None = None) -> None:
    """Wall time each way of taking fewer full-size steps needs to reach the float32 loss of ``single_steps`` steps
    on the pixels (the paper's optimization, ``pyramid_levels=1``, one scale).

    Contenders: an image pyramid at one scale, and the coarse-to-fine ``schedule`` (each scale twice the one before)
    on pixels and on pyramids; the one ``stylize`` picks by default at ``size`` is marked. Each result is evaluated
    every 5 steps at the final scale; evaluation time is not counted. The content and style parts of the final
    losses show where the steps went.
    """
    content, style = load_example("chelsea"), load_example("brushstrokes")
    evaluator = evaluator_for(content_at(size, device), style, device)
    report = Reporter(evaluator, device, save_to)

    start = time.perf_counter()
    single = stylize(content, style, size=size, steps=single_steps, scales=(1.0,), pyramid_levels=1,
                     device=str(device), progress=False)
    single_seconds = time.perf_counter() - start
    goal = report(f"pixels: one scale, {single_steps} steps", single_seconds, single.image)

    scales = [2.0 ** -(len(schedule) - 1 - i) for i in range(len(schedule))]
    default = "coarse-to-fine pyramid" if size >= COARSE_TO_FINE_FROM_SIZE else "pyramid one scale"
    contenders = {
        "pyramid one scale": {"steps": single_steps, "scales": (1.0,)},
        "coarse-to-fine pixels": {"steps": schedule, "scales": scales, "pyramid_levels": 1},
        "coarse-to-fine pyramid": {"steps": schedule, "scales": scales},
    }
    for name, options in contenders.items():
        result, seconds, checkpoints = run_with_checkpoints(content, style, size, device, evaluator, options)
        report(f"{name}: {[s['size'] for s in result.schedule]} px, steps {options['steps']}, levels "
               f"{[s['pyramid_levels'] for s in result.schedule]}"
               f"{' (the default kind at this size)' if name == default else ''}", seconds, result.image)
        reached = next(((step, seconds) for step, seconds, loss in checkpoints if loss <= goal), None)
        if reached is None:
            last = f"{checkpoints[-1][2]:.4g}" if checkpoints else "none"
            print(f"  did not reach {goal:.4g} (last checkpoint: {last})", flush=True)
            continue
        step, seconds = reached
        print(f"  reached {goal:.4g} at step {step} after {seconds:.1f} s: time ratio {seconds / single_seconds:.2f} "
              "(target <= 0.5)", flush=True)


def step_parts(size: int, device: torch.device, compiled: bool = False) -> dict[str, Callable[[], float]]:
    """Each part of a default ``stylize`` step as a timed forward and backward pass (ms), cumulative, with the floor.

    ``products``: the ten bare Gram products (five forward, five backward) on fixed features, outside the network;
    ``content + style``: the feature terms; ``objective``: with total variation; ``closure``: with the range
    penalty and the finiteness check. What a step adds beyond the closure is L-BFGS and the recorder. ``compiled``
    adds the floor and the closure under ``torch.compile`` (compiled before timing).
    """
    content = content_at(size, device)
    settings = StyleSettings(size=size, scales=(1.0,), pyramid_levels=1)
    model = load_run_model(settings)
    objectives = {tv: build_objective(model, content, [load_example("brushstrokes")], replace(settings, tv_weight=tv))
                  for tv in (0.0, settings.tv_weight)}
    image = content.clone().requires_grad_(True)
    with torch.no_grad():
        features = objectives[0.0].features(image)
    flats = [positions_first(features[name])[0] for name in STYLE_LAYERS]

    def products() -> None:
        for flat in flats:
            flat @ (flat.T @ flat)  # one product of each size forward (N x N) and one backward (M x N)

    def total(tv: float, guarded: bool, current: torch.Tensor) -> torch.Tensor:
        value = objectives[tv](current)["total"]
        return value + RANGE_WEIGHT * range_penalty(current) if guarded else value

    def closure(total_of: Callable[[torch.Tensor], torch.Tensor], guarded: bool) -> None:
        image.grad = None
        value = total_of(image)
        if guarded:
            check_finite(value, 1)
        value.backward()

    def part(tv: float, guarded: bool, compile_it: bool = False) -> Callable[[], None]:
        total_of = functools.partial(total, tv, guarded)
        return functools.partial(closure, torch.compile(total_of) if compile_it else total_of, guarded)

    parts = {"products": products, "content + style": part(0.0, False), "objective": part(settings.tv_weight, False),
             "closure": part(settings.tv_weight, True)}
    floors = {"floor": FloorPass(size, device)}
    if compiled:
        parts["closure, compiled"] = part(settings.tv_weight, True, compile_it=True)
        floors["floor, compiled"] = FloorPass(size, device, compiled=True)
    return {**floors, **{name: timed_call(part, device) for name, part in parts.items()}}


def timed_call(part: Callable[[], None], device: torch.device) -> Callable[[], float]:
    """``part`` as a function that runs it and returns its milliseconds."""
    def call() -> float:
        synchronize(device)
        start = time.perf_counter()
        part()
        synchronize(device)
        return 1000 * (time.perf_counter() - start)
    return call


def print_breakdown(sizes: list[int], passes: int, device: torch.device, compiled: bool = False) -> None:
    """Per size: the median ms of each part of a step over ``passes`` interleaved rounds, and its ratio to the floor
    measured in the same rounds."""
    for size in sizes:
        parts = step_parts(size, device, compiled)
        times: dict[str, list[float]] = {name: [] for name in parts}
        for part in parts.values():
            part()  # kernels and memory: not measured
        for _ in range(passes):
            for name, part in parts.items():
                times[name].append(part())
        floor = statistics.median(times["floor"])
        print(f"{size} px, medians of {passes} interleaved passes:")
        for name, values in times.items():
            print(f"  {name:>16} {statistics.median(values):8.2f} ms {statistics.median(values) / floor:6.3f}",
                  flush=True)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--steps", type=int, default=100,
                        help="steps per run (default 100: after 20 steps the bf16 and fp32 runs' losses still differed "
                             "by 5 %%, after 100 by under 1 %%)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--coarse-to-fine", action="store_true",
                        help="time to the loss of --goal-steps pixel steps at --size: the pyramid and coarse-to-fine "
                             "schedules")
    parser.add_argument("--size", type=int, default=512, help="with --coarse-to-fine: the result's size (default 512)")
    parser.add_argument("--goal-steps", type=int, default=300,
                        help="with --coarse-to-fine: pixel steps whose loss is the goal, and the pyramid's steps "
                             "(default 300)")
    parser.add_argument("--schedule", type=int, nargs="+", default=[200, 200],
                        help="steps per scale, coarsest first; each scale doubles the last (default 200 200: half "
                             "--size, then --size; 200 200 200 starts at a quarter)")
    parser.add_argument("--save", default=None, help="with --coarse-to-fine: a folder to save every result in as PNG")
    parser.add_argument("--lbfgs-history", type=int, nargs="+", default=None, metavar="PAIRS",
                        help="compare the default stylize step with these L-BFGS memory sizes instead (e.g. 100 20), "
                             "in --rounds interleaved rounds per size")
    parser.add_argument("--rounds", type=int, default=2, help="with --lbfgs-history: interleaved rounds (default 2)")
    parser.add_argument("--breakdown", action="store_true",
                        help="time the parts of a default step (bare Gram products, loss terms, objective, closure) "
                             "against the floor, in --passes interleaved rounds")
    parser.add_argument("--passes", type=int, default=30, help="with --breakdown: interleaved rounds (default 30)")
    parser.add_argument("--default-allocator", action="store_true",
                        help="leave glibc's defaults (by default the process keeps freed memory for reuse, "
                             "nst_helpers.keep_freed_memory, for every run and the floor alike)")
    parser.add_argument("--compile", action="store_true",
                        help="with --breakdown: also the floor and the closure under torch.compile")
    args = parser.parse_args()
    if args.coarse_to_fine and args.size < PYRAMID_FROM_SIZE:
        parser.error(f"--coarse-to-fine compares automatic pyramids, which stylize builds from {PYRAMID_FROM_SIZE} "
                     f"px: use --size {PYRAMID_FROM_SIZE} or more")
    return args


def print_speed_table(sizes: list[int], steps: int, device: torch.device) -> None:
    """Per size: ms per step of each run, the floor measured during the default run, their ratios, and the
    float32-evaluated losses."""
    print(f"{'size':>5} {'plain ms':>9} {'fp32 ms':>8} {'fast ms':>8} {'floor ms':>9} {'fast/floor':>10} "
          f"{'plain/fast':>10} {'plain loss':>11} {'fp32 loss':>10} {'fast loss':>10} {'fast/fp32 loss':>14}")
    for size in sizes:
        r = time_size(size, steps, device)
        print(f"{size:>5} {r['plain_ms']:9.1f} {r['fp32_ms']:8.1f} {r['fast_ms']:8.1f} {r['fast_floor_ms']:9.1f} "
              f"{r['fast_ms'] / r['fast_floor_ms']:10.2f} {r['plain_ms'] / r['fast_ms']:10.2f} "
              f"{r['plain_loss']:11.4g} {r['fp32_loss']:10.4g} {r['fast_loss']:10.4g} "
              f"{r['fast_loss'] / r['fp32_loss']:14.3f}", flush=True)
        print(f"{'':>5} floor during the plain and fp32 runs: {r['plain_floor_ms']:.1f} and "
              f"{r['fp32_floor_ms']:.1f} ms", flush=True)


def print_memory_table(sizes: list[int], device: torch.device) -> None:
    """Per size: peak memory of 4 steps of each run (last: on CPU its allocator setting slows every later step)."""
    print(f"\npeak memory, MB ({'allocated' if device.type == 'cuda' else 'resident growth'}, 4 steps)")
    print(f"{'size':>5} {'plain':>8} {'fp32':>8} {'fast':>8} {'plain/fast':>10}")
    for size in sizes:
        m = peak_memory_mb(size, device)
        print(f"{size:>5} {m['plain_mb']:8.0f} {m['fp32_mb']:8.0f} {m['fast_mb']:8.0f} "
              f"{m['plain_mb'] / m['fast_mb']:10.2f}", flush=True)


def print_history_table(sizes: list[int], steps: int, histories: list[int], rounds: int,
                        device: torch.device) -> None:
    """Per size and L-BFGS memory: the median over the rounds of each run's median step and of the floor measured
    during it, their ratio, and the float32-evaluated loss of the first round's result."""
    print(f"{'size':>5} {'pairs':>6} {'ms':>8} {'floor ms':>9} {'ratio':>6} {'loss':>8}")
    for size in sizes:
        runs, evaluator = runs_for(size, device)
        floor = FloorPass(size, device)
        step_ms: dict[int, list[float]] = {pairs: [] for pairs in histories}
        floor_ms: dict[int, list[float]] = {pairs: [] for pairs in histories}
        losses: dict[int, list[float]] = {pairs: [] for pairs in histories}
        for _ in range(rounds):
            for pairs in histories:
                fast_run = functools.partial(runs["fast"], steps, lbfgs_history=pairs)
                image, ms, floor_median = timed(fast_run, floor, device)
                step_ms[pairs].append(ms)
                floor_ms[pairs].append(floor_median)
                with torch.no_grad():
                    losses[pairs].append(evaluator(image.to(device))["total"].item())
        for pairs in histories:
            ms, floor_median = statistics.median(step_ms[pairs]), statistics.median(floor_ms[pairs])
            print(f"{size:>5} {pairs:>6} {ms:8.1f} {floor_median:9.1f} {ms / floor_median:6.2f} "
                  f"{losses[pairs][0]:8.4f}", flush=True)


def main() -> None:
    args = parse_arguments()
    device = choose_device(args.device)
    torch.manual_seed(0)
    kept = not args.default_allocator and device.type == "cpu" and keep_freed_memory()  # for every run alike
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CPU fast bf16: {'yes' if cpu_has_fast_bfloat16() else 'no'}, freed memory kept: {'yes' if kept else 'no'}",
          flush=True)
    if args.coarse_to_fine:
        fewer_steps(args.size, args.goal_steps, args.schedule, device, args.save)
        return
    sizes = args.sizes or ([128, 256, 512, 1024, 2048] if device.type == "cuda" else [128, 256, 512])
    if args.breakdown:
        print_breakdown(sizes, args.passes, device, args.compile)
        return
    if args.lbfgs_history:
        print_history_table(sizes, args.steps, args.lbfgs_history, args.rounds, device)
        return
    print_speed_table(sizes, args.steps, device)
    # Memory last: the allocator setting it needs on CPU slows every later step by a third (page faults).
    print_memory_table(sizes, device)


if __name__ == "__main__":
    main()
