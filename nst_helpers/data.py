"""Example images: style images the project draws itself, scikit-image's photos, and classic paintings online.

The drawn styles and the photos work offline. The classic paintings of the Gatys et al. figures are downloaded on
first use from a pinned commit of jcjohnson/neural-style, verified by SHA-256 and cached (see ``data/README.md``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch

from .download import cache_dir, download_verified
from .errors import DownloadError, ImageError
from .images import load_image

CLASSICS_URL = (
    "https://raw.githubusercontent.com/jcjohnson/neural-style/07c4b8299f8fbdafec0c514fc820ff1d7ff62e46/examples/inputs/"
)
KINDS = ("drawn", "photo", "classic")
CLASSICS_URL_VARIABLE = "NST_CLASSICS_URL"  # override the base URL, e.g. to serve the files from a local mirror


@dataclass(frozen=True)
class Example:
    name: str
    kind: str  # "drawn" (shipped in data/), "photo" (scikit-image) or "classic" (downloaded)
    title: str
    credit: str
    licence: str
    file: str = ""  # drawn: file in data/; photo: scikit-image function; classic: file name at CLASSICS_URL
    sha256: str = ""


EXAMPLES: dict[str, Example] = {
    e.name: e
    for e in [
        Example("brushstrokes", "drawn", "Brush strokes", "drawn by data/draw_styles.py", "CC0 1.0",
                "brushstrokes.jpg"),
        Example("mosaic", "drawn", "Mosaic", "drawn by data/draw_styles.py", "CC0 1.0", "mosaic.jpg"),
        Example("swirls", "drawn", "Swirls", "drawn by data/draw_styles.py", "CC0 1.0", "swirls.jpg"),
        Example("stained_glass", "drawn", "Stained glass", "drawn by data/draw_styles.py", "CC0 1.0",
                "stained_glass.png"),
        Example("astronaut", "photo", "Astronaut Eileen Collins", "NASA, via scikit-image", "public domain",
                "astronaut"),
        Example("chelsea", "photo", "Chelsea the cat", "Stefan van der Walt, via scikit-image", "CC0", "chelsea"),
        Example("coffee", "photo", "Coffee cup", "Rachel Michetti, via scikit-image", "CC0", "coffee"),
        Example("rocket", "photo", "Falcon 9 launch", "SpaceX, via scikit-image", "public domain", "rocket"),
        Example("hubble_deep_field", "photo", "Hubble eXtreme Deep Field", "NASA/ESA, via scikit-image",
                "public domain", "hubble_deep_field"),
        Example("ihc", "photo", "Immunohistochemistry stain", "CMMI, via scikit-image",
                "no known copyright restrictions", "immunohistochemistry"),
        Example("brick", "photo", "Brick wall texture", "CC0Textures (Bricks25), via scikit-image", "CC0", "brick"),
        Example("gravel", "photo", "Gravel texture", "CC0Textures (Gravel04), via scikit-image", "CC0", "gravel"),
        Example("grass", "photo", "Grass texture", "linolafett (Grass 01), via scikit-image", "CC0", "grass"),
        Example("starry_night", "classic", "The Starry Night (1889)", "Vincent van Gogh", "public domain",
                "starry_night.jpg", "0592ab0f7b51b3ce72608a95e53880bd93971e5b48f93a0ce8dfd3cbccf3d098"),
        Example("the_scream", "classic", "The Scream (1893)", "Edvard Munch", "public domain", "the_scream.jpg",
                "f3075cddeb974a9ee1d6418f7f33fd05185a7ac7dcb4288bd2805d499a9dcaee"),
        Example("shipwreck", "classic", "The Shipwreck of the Minotaur (c. 1810)", "J. M. W. Turner",
                "public domain", "shipwreck.jpg", "4f7cf34e3cd4a5daaf3f421f059ca9a01aaa2a3afd7243d6670c9c8bc001a213"),
        Example("tubingen", "classic", "Neckarfront in Tübingen", "photo by Andreas Praefcke", "CC BY",
                "tubingen.jpg", "e67d1869f01fd805385c681a80d9ebcf0f70ea4a5fe6127f0606bb1c7f4bf506"),
    ]
}


def list_examples(kind: str | None = None, *, offline_only: bool = False) -> list[str]:
    """Names of the examples, optionally of one ``kind`` (``drawn``, ``photo``, ``classic``) or offline ones only."""
    if kind not in (None, *KINDS):
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    return [
        e.name for e in EXAMPLES.values()
        if (kind is None or e.kind == kind) and not (offline_only and e.kind == "classic")
    ]


def data_dir() -> Path:
    """The folder of the drawn style images: ``data/`` of a checkout, else the copy installed with the package."""
    checkout = Path(__file__).resolve().parent.parent / "data"
    if checkout.is_dir():
        return checkout
    return Path(str(resources.files("nst_helpers") / "shipped"))


def classic_path(name: str, timeout: float = 20.0) -> Path:
    """Download a classic painting once (verified by SHA-256) and return its cached path."""
    example = EXAMPLES[name]
    base = os.environ.get(CLASSICS_URL_VARIABLE, CLASSICS_URL)
    url = base.rstrip("/") + "/" + example.file
    try:
        return download_verified(url, example.sha256, cache_dir() / "classics" / example.file, timeout=timeout)
    except DownloadError as error:
        offline = ", ".join(list_examples(offline_only=True))
        raise DownloadError(f"the classic image {name!r} is downloaded on demand and that failed: {error}. "
                            f"These examples work offline: {offline}") from error


def load_example(name: str, max_size: int | None = None) -> torch.Tensor:
    """An example image as a (1, 3, H, W) tensor in [0, 1]; see :func:`list_examples` for the names."""
    if name not in EXAMPLES:
        raise KeyError(f"no example named {name!r}; choose one of: {', '.join(EXAMPLES)}")
    example = EXAMPLES[name]
    if example.kind == "drawn":
        path = data_dir() / example.file
        if not path.is_file():
            raise ImageError(f"the drawn example {path} is missing; recreate it with: python data/draw_styles.py")
        return load_image(path, max_size=max_size)
    if example.kind == "photo":
        import skimage.data

        return load_image(getattr(skimage.data, example.file)(), max_size=max_size)
    return load_image(classic_path(name), max_size=max_size)
