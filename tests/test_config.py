"""Tests of nst_helpers.config: run profiles, device choice, seeding and precision."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from nst_helpers import config
from nst_helpers.config import (
    PROFILE_VARIABLE,
    PROFILES,
    choose_device,
    get_profile,
    resolve_precision,
    seed_everything,
)

CPU = torch.device("cpu")


def test_profiles_are_named_and_ordered_by_machine_size():
    assert set(PROFILES) == {"tiny", "cpu", "gpu"}
    for name, profile in PROFILES.items():
        assert profile.name == name
        assert 0 < profile.small_size <= profile.size
        assert 0 < profile.small_steps <= profile.steps
    tiny, cpu, gpu = PROFILES["tiny"], PROFILES["cpu"], PROFILES["gpu"]
    assert tiny.size <= 64 and tiny.small_size <= 64
    assert tiny.steps <= 10 and tiny.small_steps <= 10
    # Every image must still reach relu5_1, which needs at least 16 px.
    assert tiny.small_size >= 16
    assert tiny.size < cpu.size <= gpu.size
    assert tiny.steps < cpu.steps <= gpu.steps


def test_profile_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv(PROFILE_VARIABLE, "gpu")
    assert get_profile() is PROFILES["gpu"]
    monkeypatch.setenv(PROFILE_VARIABLE, " Tiny ")
    assert get_profile() is PROFILES["tiny"]


def test_explicit_name_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv(PROFILE_VARIABLE, "gpu")
    assert get_profile("tiny") is PROFILES["tiny"]


def test_unknown_profile_from_the_environment_names_the_variable_and_choices(monkeypatch):
    monkeypatch.setenv(PROFILE_VARIABLE, "huge")
    with pytest.raises(ValueError, match=r"unknown profile 'huge' \(from NST_PROFILE\); choose one of tiny, cpu, gpu"):
        get_profile()


def test_unknown_profile_from_the_argument_says_so(monkeypatch):
    monkeypatch.setenv(PROFILE_VARIABLE, "cpu")
    expected = r"unknown profile 'laptop' \(from the argument\); choose one of tiny, cpu, gpu"
    with pytest.raises(ValueError, match=expected):
        get_profile("laptop")


@pytest.mark.parametrize(("accelerator", "expected"), [(False, "cpu"), (True, "gpu")])
def test_default_profile_follows_the_hardware(monkeypatch, accelerator, expected):
    monkeypatch.delenv(PROFILE_VARIABLE, raising=False)
    monkeypatch.setattr(config, "accelerator_available", lambda: accelerator)
    assert get_profile().name == expected


def test_empty_environment_variable_falls_back_to_the_default(monkeypatch):
    monkeypatch.setenv(PROFILE_VARIABLE, "")
    monkeypatch.setattr(config, "accelerator_available", lambda: False)
    assert get_profile().name == "cpu"


@pytest.mark.skipif(config.accelerator_available(), reason="this machine has an accelerator")
def test_best_device_on_a_machine_without_accelerator_is_the_cpu():
    assert choose_device(None) == CPU
    assert choose_device() == CPU


def test_explicit_device_is_used_as_given():
    assert choose_device("cpu") == CPU
    assert choose_device(torch.device("cpu")) == CPU
    assert choose_device("cuda:1") == torch.device("cuda", 1)  # only a description: no CUDA needed to make it


def _draw() -> tuple[torch.Tensor, np.ndarray, list[float]]:
    return torch.rand(5), np.random.rand(5), [random.random() for _ in range(5)]


def test_seed_everything_makes_every_generator_reproducible():
    generator = seed_everything(123)
    first_torch, first_numpy, first_python = _draw()
    first_explicit = torch.rand(3, generator=generator)

    generator = seed_everything(123)
    again_torch, again_numpy, again_python = _draw()
    assert torch.equal(first_torch, again_torch)
    np.testing.assert_array_equal(first_numpy, again_numpy)
    assert first_python == again_python
    assert torch.equal(torch.rand(3, generator=generator), first_explicit)

    seed_everything(124)
    other_torch, other_numpy, other_python = _draw()
    assert not torch.equal(first_torch, other_torch)
    assert not np.array_equal(first_numpy, other_numpy)
    assert first_python != other_python


def test_seed_everything_accepts_seeds_beyond_numpys_range():
    seed_everything(2**40 + 5)
    first = np.random.rand(3)
    seed_everything(2**40 + 5)
    np.testing.assert_array_equal(np.random.rand(3), first)


def test_explicit_precisions_ignore_the_hardware(monkeypatch):
    monkeypatch.setattr(config, "cpu_has_fast_bfloat16", lambda: False)
    assert resolve_precision("fp32", CPU) is torch.float32
    assert resolve_precision("bf16", CPU) is torch.bfloat16
    monkeypatch.setattr(config, "cpu_has_fast_bfloat16", lambda: True)
    assert resolve_precision("fp32", CPU) is torch.float32


@pytest.mark.parametrize(("fast", "expected"), [(True, torch.bfloat16), (False, torch.float32)])
def test_auto_precision_on_the_cpu_follows_its_bfloat16_support(monkeypatch, fast, expected):
    monkeypatch.setattr(config, "cpu_has_fast_bfloat16", lambda: fast)
    assert resolve_precision("auto", CPU) is expected


def test_auto_precision_on_mps_is_float32():
    assert resolve_precision("auto", torch.device("mps")) is torch.float32


@pytest.mark.parametrize("bad", ["fp16", "float32", "BF16", ""])
def test_unknown_precision_is_refused_with_the_choices(bad):
    with pytest.raises(ValueError, match=rf"precision must be one of auto, fp32, bf16; got {bad!r}"):
        resolve_precision(bad, CPU)


def test_cpu_bfloat16_probe_answers_a_bool():
    assert isinstance(config.cpu_has_fast_bfloat16(), bool)
