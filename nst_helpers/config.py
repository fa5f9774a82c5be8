"""Run profiles and the compute precision.

A profile fixes how big and how long the notebook experiments are, so the same notebook can run in CI in seconds
(``tiny``), on a laptop CPU in minutes (``cpu``) or at full quality on a GPU (``gpu``). Choose it with the
environment variable ``NST_PROFILE``; notebooks read every size and step count from :func:`get_profile`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from .errors import SettingsError
from .settings import PRECISIONS

PROFILE_VARIABLE = "NST_PROFILE"


@dataclass(frozen=True)
class Profile:
    """Sizes (longest image side in pixels) and step counts for one kind of machine."""

    name: str
    size: int  # main stylization size
    small_size: int  # quick experiments: reconstructions, texture synthesis, grids
    steps: int  # L-BFGS steps of a full stylization
    small_steps: int  # steps of quick experiments


PROFILES: dict[str, Profile] = {
    "tiny": Profile("tiny", size=64, small_size=48, steps=6, small_steps=4),
    "cpu": Profile("cpu", size=256, small_size=128, steps=150, small_steps=60),
    "gpu": Profile("gpu", size=512, small_size=256, steps=400, small_steps=200),
}


def accelerator_available() -> bool:
    """True when a CUDA or Apple MPS device can be used."""
    mps = getattr(torch.backends, "mps", None)
    return torch.cuda.is_available() or bool(mps and mps.is_available())


def get_profile(name: str | None = None) -> Profile:
    """The profile named ``name``, else ``$NST_PROFILE``, else ``gpu`` with an accelerator and ``cpu`` without."""
    chosen = name or os.environ.get(PROFILE_VARIABLE) or ("gpu" if accelerator_available() else "cpu")
    try:
        return PROFILES[chosen.strip().lower()]
    except KeyError:
        raise SettingsError(
            f"unknown profile {chosen!r} (from {'the argument' if name else PROFILE_VARIABLE}); "
            f"choose one of {', '.join(PROFILES)}"
        ) from None


def cpu_has_fast_bfloat16() -> bool:
    """True on CPUs with native bfloat16 math (AVX-512 BF16 or AMX), where bf16 convolutions beat float32."""
    cpu = torch.cpu
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(cpu, name, lambda: False)() for name in checks)


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """The compute dtype of the VGG forward pass: ``auto`` picks bfloat16 where the hardware runs it natively."""
    if precision not in PRECISIONS:
        raise SettingsError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if precision == "fp32":
        return torch.float32
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    if device.type == "cpu":
        return torch.bfloat16 if cpu_has_fast_bfloat16() else torch.float32
    return torch.float32
