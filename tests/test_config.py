"""Tests of nst_helpers.config: run profiles and precision; and that a run leaves the global random state alone.

The device choice moved to nst_helpers.settings (tests/test_settings.py); seed_everything was removed, since runs
draw from their own torch.Generator.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from nst_helpers import config
from nst_helpers.config import PROFILE_VARIABLE, PROFILES, get_profile, resolve_precision
from nst_helpers.errors import SettingsError
from nst_helpers.transfer import stylize

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
    expected = r"unknown profile 'huge' \(from NST_PROFILE\); choose one of tiny, cpu, gpu"
    with pytest.raises(SettingsError, match=expected):
        get_profile()


def test_unknown_profile_from_the_argument_says_so(monkeypatch):
    monkeypatch.setenv(PROFILE_VARIABLE, "cpu")
    expected = r"unknown profile 'laptop' \(from the argument\); choose one of tiny, cpu, gpu"
    with pytest.raises(SettingsError, match=expected):
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


def _global_random_states() -> tuple:
    return random.getstate(), np.random.get_state(), torch.get_rng_state()


@pytest.mark.parametrize(("weights", "init"), [("original", "content"), ("random", "noise")])
def test_stylize_leaves_the_global_random_state_alone(weights, init):
    """Runs draw from their own torch.Generator: a learner's random numbers do not change when a run happens."""
    generator = torch.Generator().manual_seed(7)
    content, style = torch.rand(1, 3, 24, 32, generator=generator), torch.rand(1, 3, 32, 32, generator=generator)
    random.seed(11)
    np.random.seed(12)
    torch.manual_seed(13)
    before = _global_random_states()
    result = stylize(content, style, size=32, steps=2, progress=False, weights=weights, init=init, seed=5)
    after = _global_random_states()
    assert result.steps_done == 2  # the run really happened
    assert after[0] == before[0]
    assert after[1][0] == before[1][0] and np.array_equal(after[1][1], before[1][1]) and after[1][2:] == before[1][2:]
    assert torch.equal(after[2], before[2])
    # And the draws that follow are the ones the seeds promise, as if no run had happened in between.
    random.seed(11)
    np.random.seed(12)
    torch.manual_seed(13)
    expected = (random.random(), np.random.rand(), torch.rand(1))
    random.setstate(before[0])
    np.random.set_state(before[1])
    torch.set_rng_state(before[2])
    stylize(content, style, size=32, steps=2, progress=False, weights=weights, init=init, seed=5)
    assert (random.random(), np.random.rand(), torch.rand(1)) == expected


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
    with pytest.raises(SettingsError, match=rf"precision must be one of auto, fp32, bf16; got {bad!r}"):
        resolve_precision(bad, CPU)


def test_cpu_bfloat16_probe_answers_a_bool():
    assert isinstance(config.cpu_has_fast_bfloat16(), bool)
