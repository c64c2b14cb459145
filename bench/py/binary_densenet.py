#!/usr/bin/python3
"""The BinaryDenseNet family in Python PyTorch: the twin of models/densenet.{h,cc}.

Same topology (larq-zoo), same tensor names, same straight-through estimator and the same
forward pass as the C++ model, so that weights exported by fedsmear::ExportTorchPickle load
with load_state_dict(strict=True) and give the same logits (bench/py/check_twin.py), and so
that bench/py/model_speed.py measures the same work as bench/model_bench.cc.

  stem        7x7/2 conv -> BN -> ReLU -> 3x3/2 max-pool   (input < 50 px: 3x3/1 conv only)
  dense layer BN -> binary 3x3 conv (growth filters), concatenated onto its input
  transition  BN -> 2x2 max-pool -> ReLU -> 1x1 conv to round(floor(C/red)/32)*32 channels
  head        BN -> ReLU -> global average pool -> dense

Binary convs binarize inputs and kernels with sign (x >= 0 -> +1); the gradient passes where
|x| <= 1.3. Float twins (densenet*) put a ReLU where the sign would be.

Self-check:  /usr/bin/python3 bench/py/binary_densenet.py --check
"""

import argparse
import math
import sys
from dataclasses import dataclass
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

BINARY_CLIP = 1.3


@dataclass(frozen=True)
class ArchSpec:
    name: str
    binary: bool
    layers: Tuple[int, ...]
    reductions: Tuple[float, ...]
    growth: int = 64
    initial_filters: int = 64


def _arch_table() -> List[ArchSpec]:
    table = []
    for suffix, layers, reductions, growth, initial in (
        ("28", (6, 6, 6, 5), (2.7, 2.7, 2.2), 64, 64),
        ("37", (6, 8, 12, 6), (3.3, 3.3, 4.0), 64, 64),
        ("45", (6, 12, 14, 8), (2.7, 3.3, 4.0), 64, 64),
        ("-tiny", (2, 2, 2), (2.0, 2.0), 32, 32),
    ):
        table.append(ArchSpec("bdn" + suffix, True, layers, reductions, growth, initial))
        table.append(ArchSpec("densenet" + suffix, False, layers, reductions, growth, initial))
    return table


ARCHS = {a.name: a for a in _arch_table()}


def transition_channels(in_channels: int, reduction: float) -> int:
    """round(floor(C / reduction) / 32) * 32, rounding half to even (Python's round)."""
    return int(round(math.floor(in_channels / reduction) / 32.0)) * 32


def small_input_stem(input_size: int) -> bool:
    return input_size < 50


class SteSign(torch.autograd.Function):
    """sign(x) with x >= 0 -> +1; backward passes the gradient where |x| <= clip."""

    @staticmethod
    def forward(ctx, x, clip):
        ctx.save_for_backward(x)
        ctx.clip = clip
        return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= ctx.clip).to(grad.dtype), None


def ste_sign(x: torch.Tensor, clip: float = BINARY_CLIP) -> torch.Tensor:
    return SteSign.apply(x, clip)


def _bn(channels: int, momentum: float) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-5, momentum=momentum)


def _conv(cin: int, cout: int, kernel: int, stride: int, padding: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)


# Keras initialisers, as larq-zoo (and the C++ model) use them.
def _fans(w: torch.Tensor) -> Tuple[int, int]:
    receptive = w[0][0].numel() if w.dim() > 2 else 1
    return w.size(1) * receptive, w.size(0) * receptive


@torch.no_grad()
def _glorot_normal(w: torch.Tensor) -> None:
    fan_in, fan_out = _fans(w)
    w.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out)))


@torch.no_grad()
def _glorot_uniform(w: torch.Tensor) -> None:
    fan_in, fan_out = _fans(w)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    w.uniform_(-limit, limit)


@torch.no_grad()
def _he_normal(w: torch.Tensor) -> None:
    fan_in, _ = _fans(w)
    w.normal_(0.0, math.sqrt(2.0 / fan_in))


class DenseNet(nn.Module):
    """Attribute layout gives the C++ tensor names: stem.conv.weight, block1.layer1.bn.weight..."""

    def __init__(self, arch: ArchSpec, classes: int, input_size: int, bn_momentum: float = 0.1):
        super().__init__()
        self.arch = arch
        self.classes = classes
        self.input_size = input_size
        self.binary_names = set()

        self.stem = nn.Module()
        channels = arch.initial_filters
        self.small_stem = small_input_stem(input_size)
        if self.small_stem:
            self.stem.conv = _conv(3, channels, 3, 1, 1)
        else:
            self.stem.conv = _conv(3, channels, 7, 2, 3)
            self.stem.bn = _bn(channels, bn_momentum)
        _he_normal(self.stem.conv.weight)

        self.num_blocks = len(arch.layers)
        for b, count in enumerate(arch.layers, start=1):
            block = nn.Module()
            setattr(self, f"block{b}", block)
            for i in range(1, count + 1):
                layer = nn.Module()
                layer.bn = _bn(channels, bn_momentum)
                layer.conv = _conv(channels, arch.growth, 3, 1, 1)
                _glorot_normal(layer.conv.weight)
                setattr(block, f"layer{i}", layer)
                if arch.binary:
                    self.binary_names.add(f"block{b}.layer{i}.conv.weight")
                channels += arch.growth
            if b < self.num_blocks:
                out = transition_channels(channels, arch.reductions[b - 1])
                trans = nn.Module()
                trans.bn = _bn(channels, bn_momentum)
                trans.conv = _conv(channels, out, 1, 1, 0)
                _glorot_uniform(trans.conv.weight)
                setattr(self, f"trans{b}", trans)
                channels = out

        self.head = nn.Module()
        self.head.bn = _bn(channels, bn_momentum)
        self.head.fc = nn.Linear(channels, classes)
        _glorot_uniform(self.head.fc.weight)
        with torch.no_grad():
            self.head.fc.bias.zero_()

    def _layers(self, b: int):
        block = getattr(self, f"block{b}")
        return [getattr(block, f"layer{i}") for i in range(1, self.arch.layers[b - 1] + 1)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem.conv(x)
        if not self.small_stem:
            x = F.relu(self.stem.bn(x))
            x = F.max_pool2d(x, 3, 2, 1)
        for b in range(1, self.num_blocks + 1):
            for layer in self._layers(b):
                y = layer.bn(x)
                if self.arch.binary:
                    y = F.conv2d(ste_sign(y), ste_sign(layer.conv.weight), None, 1, 1)
                else:
                    y = layer.conv(F.relu(y))
                x = torch.cat([x, y], 1)
            if b < self.num_blocks:
                trans = getattr(self, f"trans{b}")
                x = F.relu(F.max_pool2d(trans.bn(x), 2, 2))
                x = trans.conv(x)
        x = F.relu(self.head.bn(x))
        x = x.mean(dim=(2, 3))
        return self.head.fc(x)

    @torch.no_grad()
    def clip_latent_weights(self, clip: float = BINARY_CLIP) -> None:
        """Clamps binary-conv latent weights to [-clip, clip]; call after every optimizer step."""
        if not self.arch.binary:
            return
        for b in range(1, self.num_blocks + 1):
            for layer in self._layers(b):
                layer.conv.weight.clamp_(-clip, clip)


def make_model(arch: str, classes: int, input_size: int, bn_momentum: float = 0.1) -> DenseNet:
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture '{arch}' (known: {', '.join(ARCHS)})")
    if classes < 2:
        raise ValueError("a classifier needs at least 2 classes")
    spec = ARCHS[arch]
    min_side = (1 if small_input_stem(input_size) else 4) * 2 ** (len(spec.layers) - 1)
    if input_size < max(8, min_side):
        raise ValueError(f"input size {input_size} is too small for {arch}")
    return DenseNet(spec, classes, input_size, bn_momentum)


def count_parameters(model: DenseNet) -> Tuple[int, int]:
    """Trainable parameters: (all, binary)."""
    total = binary = 0
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        total += p.numel()
        if name in model.binary_names:
            binary += p.numel()
    return total, binary


def self_check() -> int:
    """Parameter counts, names and the STE against the numbers the C++ tests pin."""
    failures = []

    def expect(what, got, want):
        ok = got == want
        show = (lambda v: f"{v:,}" if type(v) is int else str(v))
        print(f"  {'ok ' if ok else 'BAD'} {what}: {show(got)}"
              + ("" if ok else f" (want {show(want)})"))
        if not ok:
            failures.append(what)

    bdn28 = make_model("bdn28", 8, 64)
    total, binary = count_parameters(bdn28)
    expect("bdn28/8 classes parameters", total, 4_559_112)
    expect("bdn28/8 classes binary parameters", binary, 4_202_496)
    expect("bdn45/8 classes parameters", count_parameters(make_model("bdn45", 8, 64))[0],
           13_094_920)
    twin = make_model("densenet28", 8, 64)
    expect("densenet28 parameters", count_parameters(twin)[0], 4_559_112)
    expect("densenet28 binary parameters", count_parameters(twin)[1], 0)
    shapes = {n: tuple(p.shape) for n, p in bdn28.named_parameters()}
    expect("bdn28 trans1.conv.weight shape", shapes.get("trans1.conv.weight"), (160, 448, 1, 1))
    expect("bdn28 head.fc.weight shape", shapes.get("head.fc.weight"), (8, 576))
    small = dict(make_model("bdn28", 8, 32).named_parameters())
    expect("small stem kernel", tuple(small["stem.conv.weight"].shape), (64, 3, 3, 3))
    expect("small stem has no BN", "stem.bn.weight" in small, False)
    for arch in ("bdn28", "bdn37", "bdn45", "bdn-tiny"):
        m = make_model(arch, 8, 64).eval()
        with torch.no_grad():
            expect(f"{arch} logits shape", tuple(m(torch.randn(2, 3, 64, 64)).shape), (2, 8))
    x = torch.tensor([-2.0, -1.3, -0.5, 0.0, 0.7, 1.3, 1.31], requires_grad=True)
    y = ste_sign(x)
    y.sum().backward()
    expect("STE forward", y.tolist(), [-1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0])
    expect("STE gradient", x.grad.tolist(), [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    expect("transition_channels(448, 2.7)", transition_channels(448, 2.7), 160)
    expect("transition_channels(80, 1.0) half-even", transition_channels(80, 1.0), 64)
    if failures:
        print(f"FAILED: {len(failures)} check(s)", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="run the self-check")
    parser.add_argument("--arch", default="bdn28", help="print the parameter count of ARCH")
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    if args.check:
        return self_check()
    total, binary = count_parameters(make_model(args.arch, args.classes, args.size))
    print(f"{args.arch}: {total:,} parameters ({binary:,} binary)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
