"""Tests of nst_helpers.settings: the defaults, every kind of bad value, the device, and settings that repeat a run."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from nst_helpers import settings as settings_module
from nst_helpers.errors import ImageNotFoundError, SettingsError, SettingsTypeError
from nst_helpers.settings import StyleSettings, available_devices, choose_device, largest_size
from nst_helpers.transfer import reconstruct_content, stylize, synthesize_texture
from nst_helpers.vgg import CONTENT_LAYER, STYLE_LAYERS

CPU = torch.device("cpu")
NAN, INF = float("nan"), float("inf")
TINY = {"size": 32, "steps": 2, "progress": False}


def tiny_images() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.rand(1, 3, 24, 32, generator=generator), torch.rand(1, 3, 32, 32, generator=generator)


# Defaults


def test_the_defaults():
    assert StyleSettings().as_dict() == {
        "content_weight": 1.0, "style_weight": 30.0, "tv_weight": 10.0, "content_layer": CONTENT_LAYER,
        "style_layers": STYLE_LAYERS, "style_blend": None, "style_scale": 1.0, "size": 512, "steps": 200,
        "optimizer": "lbfgs", "lr": None, "lbfgs_history": 20, "init": "content", "weights": "original",
        "pooling": "max", "scales": None,
        "pyramid_levels": None, "precision": "auto", "seed": 0, "device": None, "textbook": False, "size_limit": None,
        "statistic": "gram",
        "preserve_colors": None,
    }
    assert CONTENT_LAYER == "relu4_2" and STYLE_LAYERS == ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def test_as_dict_names_every_field():
    assert list(StyleSettings().as_dict()) == [item.name for item in dataclasses.fields(StyleSettings)]


# Bad values: the right class, and a message that names the argument

BAD_VALUES = [
    # wrong types
    ({"size": "128"}, SettingsTypeError, r"size must be a whole number, got '128' \(str\)"),
    ({"size": 128.0}, SettingsTypeError, r"size must be a whole number, got 128\.0 \(float\)"),
    ({"steps": 2.5}, SettingsTypeError, r"steps must be a whole number, got 2\.5 \(float\)"),
    ({"steps": True}, SettingsTypeError, r"steps must be a whole number, got True \(bool\)"),
    ({"steps": "12"}, SettingsTypeError, r"steps must be a whole number, got '12' \(str\)"),
    ({"seed": 1.0}, SettingsTypeError, r"seed must be a whole number"),
    ({"lbfgs_history": 20.0}, SettingsTypeError, r"lbfgs_history must be a whole number"),
    ({"pyramid_levels": 2.0}, SettingsTypeError, r"pyramid_levels must be a whole number"),
    ({"style_weight": "30"}, SettingsTypeError, r"style_weight must be a number, got '30' \(str\)"),
    ({"content_weight": True}, SettingsTypeError, r"content_weight must be a number, got True \(bool\)"),
    ({"tv_weight": None}, SettingsTypeError, r"tv_weight must be a number, got None"),
    ({"lr": "fast"}, SettingsTypeError, r"lr must be a number"),
    ({"style_blend": "ab"}, SettingsTypeError, r"style_blend must be a list or tuple, got 'ab' \(str\)"),
    ({"style_blend": 1.0}, SettingsTypeError, r"style_blend must be a list or tuple"),
    ({"style_layers": "relu1_1"}, SettingsTypeError, r"style_layers must be a list or tuple"),
    ({"textbook": "yes"}, SettingsTypeError, r"textbook must be True or False, got 'yes'"),
    # out of range
    ({"size": 0}, SettingsError, r"size must be at least 1, got 0"),
    ({"size": -5}, SettingsError, r"size must be at least 1, got -5"),
    ({"steps": -1}, SettingsError, r"steps must be at least 1, got -1"),
    ({"steps": 0}, SettingsError, r"steps must be at least 1, got 0"),
    ({"seed": -1}, SettingsError, r"seed must be at least 0, got -1"),
    ({"lbfgs_history": 0}, SettingsError, r"lbfgs_history must be at least 1, got 0"),
    ({"pyramid_levels": 0}, SettingsError, r"pyramid_levels must be at least 1, got 0"),
    ({"size_limit": 0}, SettingsError, r"size_limit must be at least 1, got 0"),
    ({"style_weight": -1}, SettingsError, r"style_weight must be at least 0, got -1"),
    ({"content_weight": -0.5}, SettingsError, r"content_weight must be at least 0, got -0\.5"),
    ({"tv_weight": -2.0}, SettingsError, r"tv_weight must be at least 0, got -2\.0"),
    ({"lr": 0}, SettingsError, r"lr must be above 0, got 0"),
    ({"style_scale": 0}, SettingsError, r"style_scale must be above 0, got 0"),
    # not finite
    ({"style_weight": NAN}, SettingsError, r"style_weight must be a finite number, got nan"),
    ({"style_weight": INF}, SettingsError, r"style_weight must be a finite number, got inf"),
    ({"tv_weight": NAN}, SettingsError, r"tv_weight must be a finite number, got nan"),
    ({"tv_weight": -INF}, SettingsError, r"tv_weight must be a finite number, got -inf"),
    ({"content_weight": NAN}, SettingsError, r"content_weight must be a finite number, got nan"),
    ({"lr": INF}, SettingsError, r"lr must be a finite number, got inf"),
    ({"style_blend": [1.0, NAN]}, SettingsError, r"style_blend must be a finite number, got nan"),
    ({"style_blend": (INF, 1.0)}, SettingsError, r"style_blend must be a finite number, got inf"),
    ({"style_blend": [0, 0]}, SettingsError, r"style_blend needs at least one weight above 0, got \[0, 0\]"),
    ({"style_blend": [1, -1]}, SettingsError, r"style_blend must be at least 0, got -1"),
    ({"style_layers": {"relu1_1": NAN}}, SettingsError, r"style_layers weight must be a finite number, got nan"),
    ({"style_layers": {"relu1_1": -1.0}}, SettingsError, r"style_layers weight must be at least 0, got -1\.0"),
    # layers
    ({"style_layers": []}, SettingsError, r"style_layers needs at least one layer with a weight above 0, got \[\]"),
    ({"style_layers": {}}, SettingsError, r"style_layers needs at least one layer with a weight above 0, got \{\}"),
    ({"style_layers": {"relu1_1": 0.0}}, SettingsError, r"style_layers needs at least one layer"),
    ({"style_layers": ["relu1_1", "rleu3_1"]}, SettingsError,
     r"style_layers: unknown VGG19 layer 'rleu3_1'; did you mean 'relu3_1'\?"),
    ({"style_layers": {"conv5-1": 1.0}}, SettingsError,
     r"style_layers: unknown VGG19 layer 'conv5-1'; did you mean 'conv5_1'\?"),
    ({"content_layer": "relu4-2"}, SettingsError,
     r"content_layer: unknown VGG19 layer 'relu4-2'; did you mean 'relu4_2'"),
    ({"content_layer": "fc7"}, SettingsError, r"content_layer: unknown VGG19 layer 'fc7'; names look like relu4_2"),
    # names
    ({"optimizer": "sgd"}, SettingsError, r"optimizer must be one of 'lbfgs', 'adam'; got 'sgd'"),
    ({"init": "random"}, SettingsError,
     r"init must be one of 'content', 'noise', 'style', 'faint_noise'; got 'random'"),
    ({"weights": "imagenet"}, SettingsError, r"weights must be one of 'original', 'torchvision', 'random'"),
    ({"pooling": "min"}, SettingsError, r"pooling must be one of 'max', 'avg'; got 'min'"),
    ({"precision": "fp16"}, SettingsError, r"precision must be one of 'auto', 'fp32', 'bf16'; got 'fp16'"),
    ({"device": "foo"}, SettingsError, r"device='foo' is not available here; choose one of: .*cpu"),
    # scales and steps
    ({"scales": [0.5, 0.75]}, SettingsError,
     r"scales must increase, lie in \(0, 1\] and end with 1, e\.g\. \(0\.5, 1\); got \[0\.5, 0\.75\]"),
    ({"scales": [1, 0.5]}, SettingsError, r"scales must increase.*got \[1, 0\.5\]"),
    ({"scales": [0, 1]}, SettingsError, r"scales must increase, lie in \(0, 1\]"),
    ({"scales": []}, SettingsError, r"scales must increase.*got \[\]"),
    ({"scales": [0.5, NAN]}, SettingsError, r"scales must be a finite number, got nan"),
    ({"scales": (0.5, 1), "steps": [1, 2, 3]}, SettingsError,
     r"steps has 3 entries but scales has 2; give one per scale"),
    ({"steps": (10, 20)}, SettingsError, r"steps has 2 entries but there is one scale; give a number or set scales"),
    ({"steps": [10, -1], "scales": [0.5, 1]}, SettingsError, r"steps must be at least 1, got -1"),
    # size against a limit
    ({"size": 600, "size_limit": 512}, SettingsError,
     r"size = 600 px is more than the largest size that fits in this device's memory, about 512 px"),
    ({"size": 300, "style_scale": 2.0, "size_limit": 512}, SettingsError,
     r"size x style_scale = 600 px is more than the largest size .* about 512 px"),
]


@pytest.mark.parametrize(("options", "error", "message"), BAD_VALUES, ids=[repr(case[0]) for case in BAD_VALUES])
def test_a_bad_value_gets_the_right_error_naming_the_argument(options, error, message):
    with pytest.raises(error, match=message) as caught:
        StyleSettings(**options)
    assert type(caught.value) is error  # SettingsTypeError for types, SettingsError for values: not the other
    name = next(iter(options)) if len(options) == 1 or "size_limit" not in options else "size"
    assert name in str(caught.value)


@pytest.mark.parametrize(("options", "error", "message"), BAD_VALUES[:12], ids=[repr(c[0]) for c in BAD_VALUES[:12]])
def test_replace_and_from_options_check_the_same_way(options, error, message):
    base = StyleSettings(size=64)
    with pytest.raises(error, match=message):
        base.replace(**options)
    with pytest.raises(error, match=message):
        StyleSettings.from_options(base, **options)


def test_the_size_limit_from_memory_names_the_largest_size():
    largest = largest_size(CPU)
    assert largest > 0
    StyleSettings(size=largest, device="cpu")
    with pytest.raises(SettingsError, match=rf"size = {largest + 1} px is more than .* about {largest} px") as caught:
        StyleSettings(size=largest + 1, device="cpu")
    assert "set size_limit if you know it fits" in str(caught.value)
    StyleSettings(size=largest + 1, device="cpu", size_limit=largest + 1)  # the user knows better


def test_the_largest_size_follows_the_memory(monkeypatch):
    memory = int(4_000_000 * settings_module.BYTES_PER_PIXEL / settings_module.MEMORY_SHARE)
    monkeypatch.setattr(settings_module, "total_memory", lambda device: memory)
    assert largest_size(CPU) == 2000
    StyleSettings(size=2000)
    with pytest.raises(SettingsError, match="about 2000 px"):
        StyleSettings(size=2001)
    monkeypatch.setattr(settings_module, "total_memory", lambda device: 4 * memory)
    assert largest_size(CPU) == 4000
    StyleSettings(size=4000)


# The device


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:1"])
def test_cuda_without_cuda_names_the_devices_there_are(device):
    for call in (lambda: StyleSettings(device=device), lambda: choose_device(device)):
        with pytest.raises(SettingsError, match=rf"device='{device}' is not available here; choose one of: .*cpu$"):
            call()


@pytest.mark.skipif(torch.cuda.is_available() or settings_module.available_devices()[0] != "cpu",
                    reason="this machine has an accelerator")
def test_best_device_on_a_machine_without_accelerator_is_the_cpu():
    assert choose_device(None) == CPU
    assert choose_device() == CPU
    assert available_devices() == ["cpu"]


def test_explicit_device_is_used_as_given():
    assert choose_device("cpu") == CPU
    assert choose_device(torch.device("cpu")) == CPU
    assert StyleSettings(device="cpu").device == "cpu"


@pytest.mark.parametrize("bad", ["foo", "gpu", "", "cuda:x", 3.5])
def test_a_device_that_is_no_device_is_a_settings_error(bad):
    with pytest.raises(SettingsError, match=rf"device={bad!r} is not available here; choose one of: "):
        choose_device(bad)


def test_devices_are_chosen_from_those_the_machine_has(monkeypatch):
    """Two GPUs, without having them: the best is the first, cuda:1 exists, cuda:2 does not."""
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert available_devices()[:2] == ["cuda:0", "cuda:1"] and available_devices()[-1] == "cpu"
    assert choose_device() == torch.device("cuda:0")
    assert choose_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(SettingsError, match=r"device='cuda:2' is not available here; choose one of: cuda:0, cuda:1"):
        choose_device("cuda:2")


# Options by name


def test_from_options_suggests_the_name_meant():
    with pytest.raises(SettingsTypeError, match=r"unknown option 'style_wieght'; did you mean 'style_weight'\?"):
        StyleSettings.from_options(style_wieght=3.0)
    with pytest.raises(SettingsTypeError, match=r"unknown option 'stpes'; did you mean 'steps'\?"):
        StyleSettings.from_options(StyleSettings(size=64), stpes=3)
    with pytest.raises(SettingsTypeError, match=r"unknown option 'zzz'; the options are: content_weight, .*size_limit"):
        StyleSettings.from_options(zzz=1)


def test_stylize_suggests_the_option_meant():
    content, style = tiny_images()
    with pytest.raises(SettingsTypeError, match=r"did you mean 'style_weight'\?") as caught:
        stylize(content, style, style_wieght=3.0, **TINY)
    assert isinstance(caught.value, TypeError)


def test_from_options_keeps_the_base_and_changes_only_what_is_named():
    base = StyleSettings(size=64, steps=5, style_weight=100.0, seed=3)
    changed = StyleSettings.from_options(base, steps=7)
    assert changed == base.replace(steps=7) and changed.size == 64 and changed.seed == 3
    assert base.steps == 5
    assert StyleSettings.from_options(None, steps=7) == StyleSettings(steps=7)
    assert StyleSettings.from_options(base) == base


# Errors before any image is loaded


@pytest.mark.parametrize(("options", "error"), [
    ({"size": 0}, SettingsError),
    ({"style_weight": NAN}, SettingsError),
    ({"device": "foo"}, SettingsError),
    ({"style_wieght": 1.0}, SettingsTypeError),
    ({"steps": 2.5}, SettingsTypeError),
])
def test_bad_options_are_reported_before_any_image_is_loaded(tmp_path, options, error):
    missing_content, missing_style = tmp_path / "no_content.png", tmp_path / "no_style.png"
    with pytest.raises(error):
        stylize(missing_content, missing_style, progress=False, **options)
    with pytest.raises(error):
        reconstruct_content(missing_content, progress=False, **options)
    with pytest.raises(error):
        synthesize_texture(missing_style, progress=False, **options)
    # The same call with good options gets as far as the missing file.
    with pytest.raises(ImageNotFoundError, match="no such file"):
        stylize(missing_content, missing_style, **TINY)


def test_a_style_blend_of_the_wrong_length_is_reported_before_any_image_is_loaded(tmp_path):
    missing = [tmp_path / "a.png", tmp_path / "b.png"]
    with pytest.raises(SettingsError, match="style_blend has 3 weights for 2 style images"):
        stylize(tmp_path / "c.png", missing, style_blend=[1, 1, 1], **TINY)


# Frozen settings


def test_lists_become_tuples():
    settings = StyleSettings(style_layers=["relu1_1", "relu2_1"], style_blend=[1, 2], scales=[0.5, 1], steps=[3, 4])
    assert settings.style_layers == ("relu1_1", "relu2_1") and settings.style_blend == (1, 2)
    assert settings.scales == (0.5, 1) and settings.steps == (3, 4)
    assert settings == StyleSettings(style_layers=("relu1_1", "relu2_1"), style_blend=(1, 2), scales=(0.5, 1),
                                     steps=(3, 4))
    hash(settings)  # tuples, so settings can be dictionary keys


def test_a_list_passed_in_and_changed_later_does_not_change_the_settings():
    layers = ["relu1_1", "relu2_1"]
    settings = StyleSettings(style_layers=layers)
    layers.append("not a layer")
    assert settings.style_layers == ("relu1_1", "relu2_1")


def test_size_none_means_the_contents_own_size():
    assert StyleSettings(size=None).size is None


def test_a_dict_of_style_layers_is_frozen_too():
    layers = {"relu1_1": 1.0, "relu2_1": 2.0}
    settings = StyleSettings(style_layers=layers)
    layers["relu2_1"] = -5.0  # changed after the check
    assert dict(settings.style_layers) == {"relu1_1": 1.0, "relu2_1": 2.0}
    hash(settings)


def test_settings_are_frozen():
    settings = StyleSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.size = 64


def test_replace_makes_a_checked_copy():
    settings = StyleSettings(size=64)
    smaller = settings.replace(size=32, steps=[5])
    assert smaller.size == 32 and smaller.steps == (5,) and settings.size == 64 and settings.steps == 200
    assert smaller.replace(size=64, steps=200) == settings
    with pytest.raises(SettingsError, match="size must be at least 1, got 0"):
        settings.replace(size=0)
    with pytest.raises(TypeError):
        settings.replace(sizes=32)


def test_weights_may_be_zero_and_floats_may_be_integers():
    settings = StyleSettings(content_weight=0, style_weight=0, tv_weight=0, lr=1, style_scale=2, size=64)
    assert settings.content_weight == 0 and settings.lr == 1
    assert math.isclose(StyleSettings(style_layers={"relu1_1": 3, "relu2_1": 0.5}).style_layers["relu1_1"], 3)


# Settings repeat a run


def test_the_settings_of_a_result_repeat_the_run_exactly():
    content, style = tiny_images()
    first = stylize(content, style, init="noise", seed=3, **TINY)
    settings = first.settings
    assert isinstance(settings, StyleSettings)
    assert (settings.size, settings.steps, settings.init, settings.seed) == (32, 2, "noise", 3)
    again = stylize(content, style, settings=settings, progress=False)
    assert again.settings == settings
    assert torch.equal(again.image, first.image)
    assert again.history == first.history
    other_seed = stylize(content, style, settings=settings.replace(seed=4), progress=False)
    assert not torch.equal(other_seed.image, first.image)  # so the seed really travelled in the settings


def test_options_apply_on_top_of_the_settings_passed():
    content, style = tiny_images()
    base = StyleSettings(size=32, steps=2, style_weight=100.0)
    result = stylize(content, style, base, steps=3, progress=False)
    assert result.settings == base.replace(steps=3)
    assert result.steps_done == 3
