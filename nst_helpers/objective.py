"""The total loss of a run as one function of the image, with its targets computed once (notebook 04).

:class:`StyleObjective` holds the content features and the style Gram matrices of the targets and returns, for an
image, the weighted loss terms and their :func:`~nst_helpers.losses.total_loss`. ``textbook=True`` uses the core
functions exactly as the notebooks write them (float32, autograd's Gram matrix); otherwise the speed wrappers of
:mod:`nst_helpers.fast`, which compute the same values. Both divide each feature term by its target's mean square
(:func:`~nst_helpers.robust.relative_scales`), as notebook 04 teaches; ``relative=False`` keeps the plain means.
``statistic`` chooses what the style term matches (:mod:`nst_helpers.statistics`); only ``"gram"`` has the speed
wrappers, and ``"sliced_wasserstein"`` draws its random directions once, from a generator seeded with ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from .errors import SettingsError
from .fast import bfloat16_model, fast_content_loss, fast_features, fast_gram_matrix, fast_style_loss
from .loop import plain_loop
from .losses import content_loss, equal_layer_weights, gram_matrix, style_loss, total_loss, tv_loss
from .robust import relative_scales
from .statistics import draw_directions, get_statistic, statistic_style_loss
from .vgg import CONTENT_LAYER, STYLE_LAYERS, VGG19Features


class StyleObjective:
    """``image -> {"content", "style", "tv", "total"}``: the weighted terms on VGG19 features, and their sum."""

    def __init__(
        self,
        model: VGG19Features,
        *,
        content: torch.Tensor | None = None,
        styles: Sequence[torch.Tensor] = (),
        style_blend: Sequence[float] | None = None,
        content_layer: str = CONTENT_LAYER,
        style_layers: Sequence[str] | Mapping[str, float] = STYLE_LAYERS,
        weights: Mapping[str, float] | None = None,
        textbook: bool = False,
        bf16: bool = False,
        relative: bool = True,
        statistic: str = "gram",
        seed: int = 0,
    ) -> None:
        self.textbook, self.bf16 = textbook, bf16 and not textbook
        self.model = bfloat16_model(model) if self.bf16 else model
        self.statistic = get_statistic(statistic).name
        self.weights = {"content": 1.0, "style": 1.0, "tv": 0.0, **(weights or {})}
        self.content_layer = content_layer if content is not None else None
        layer_weights = equal_layer_weights(style_layers) if styles else {}
        self.layers = set(layer_weights) | ({content_layer} if content is not None else set())
        with torch.no_grad():
            self.content_target = self.features(content)[content_layer] if content is not None else None
            self.style_targets = self._blended_grams(styles, style_blend, layer_weights)
        self.directions = (draw_directions(self.style_targets, torch.Generator().manual_seed(seed))
                           if self.statistic == "sliced_wasserstein" else None)
        self.content_scale, self.layer_weights = 1.0, layer_weights
        if relative:
            self.content_scale, self.layer_weights = relative_scales(self.content_target, self.style_targets,
                                                                     layer_weights)

    def features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """The features of ``image`` at every layer a term needs."""
        if self.textbook:
            return self.model(image, self.layers)
        return fast_features(self.model, image, self.layers, bf16=self.bf16)

    def _blended_grams(
        self, styles: Sequence[torch.Tensor], blend: Sequence[float] | None, layer_weights: Mapping[str, float]
    ) -> dict[str, torch.Tensor]:
        """Target statistics (Gram matrices); with several styles, their weighted average (blend weights sum to 1)."""
        blend = list(blend) if blend is not None else [1.0] * len(styles)
        gram = gram_matrix if self.textbook else fast_gram_matrix
        if self.statistic != "gram":
            gram = get_statistic(self.statistic).target
        if self.statistic == "sliced_wasserstein" and len(styles) > 1:
            raise SettingsError("statistic='sliced_wasserstein' takes one style image; blend with 'gram' or 'meanstd'")
        targets: dict[str, torch.Tensor] = {}
        for style, share in zip(styles, blend, strict=True):
            features = self.features(style)
            for name in layer_weights:
                term = gram(features[name]) * (share / sum(blend))
                targets[name] = targets[name] + term if name in targets else term
        return targets

    def terms(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """The unweighted terms: relative content and style errors, and total variation (0 where unused)."""
        features = self.features(image)
        zero = image.new_zeros(())
        content, style = (content_loss, style_loss) if self.textbook else (fast_content_loss, fast_style_loss)
        return {
            "content": self.content_scale * content(features[self.content_layer], self.content_target)
            if self.content_target is not None else zero,
            "style": self._style_term(features, style) if self.style_targets else zero,
            "tv": tv_loss(image) if self.weights["tv"] else zero,
        }

    def _style_term(self, features: Mapping[str, torch.Tensor], gram_loss: Callable) -> torch.Tensor:
        if self.statistic == "gram":
            return gram_loss(features, self.style_targets, self.layer_weights)
        return statistic_style_loss(features, self.style_targets, self.layer_weights, self.statistic, self.directions)

    def __call__(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        terms = self.terms(image)
        weighted = {name: self.weights[name] * value for name, value in terms.items()}
        weighted["total"] = total_loss(terms, self.weights)
        return weighted


def textbook_style_transfer(
    model: VGG19Features, content: torch.Tensor, style: torch.Tensor, weights: Mapping[str, float], steps: int
) -> torch.Tensor:
    """Notebook 04's own style transfer: the textbook relative losses, L-BFGS from the photo, clamped at the end."""
    objective = StyleObjective(model, content=content, styles=[style], weights=weights, textbook=True)
    return plain_loop(content, objective, steps)
