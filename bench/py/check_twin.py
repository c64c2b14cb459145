#!/usr/bin/python3
"""Checks that the Python twin computes what the C++ model computes.

Loads weights exported by C++ (`model_bench --export-check DIR` writes DIR/<arch>/weights.pt
with fedsmear::ExportTorchPickle, plus input.pt, logits.pt and meta.json beside it) into
bench/py/binary_densenet.py's model, runs the saved input in eval mode and compares logits.
Prints the max abs difference per model; exits 1 when it exceeds --tolerance or when any
tensor name or shape disagrees.

  build/bench/model_bench --export-check /tmp/twin
  /usr/bin/python3 bench/py/check_twin.py /tmp/twin/bdn-tiny/weights.pt /tmp/twin/bdn28/weights.pt
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from binary_densenet import make_model  # noqa: E402


def check(weights_path: str, tolerance: float) -> bool:
    folder = os.path.dirname(os.path.abspath(weights_path))
    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    torch.set_num_threads(int(meta.get("threads", 1)))
    weights = torch.load(weights_path)
    inputs = torch.load(os.path.join(folder, "input.pt"))
    expected = torch.load(os.path.join(folder, "logits.pt"))

    model = make_model(meta["arch"], int(meta["classes"]), int(meta["input_size"]))
    # The C++ state carries parameters and running statistics, not num_batches_tracked.
    result = model.load_state_dict(weights, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        print(f"{meta['arch']}: names differ: missing {missing}, "
              f"unexpected {result.unexpected_keys}")
        return False
    model.eval()
    with torch.no_grad():
        logits = model(inputs)
    if logits.shape != expected.shape:
        print(f"{meta['arch']}: logits shape {tuple(logits.shape)} != {tuple(expected.shape)}")
        return False
    diff = (logits - expected).abs().max().item()
    same_argmax = bool((logits.argmax(1) == expected.argmax(1)).all())
    ok = diff <= tolerance
    print(f"{meta['arch']} ({meta['input_size']} px, {len(weights)} tensors, "
          f"{sum(t.numel() for t in weights.values()):,} values): max |logit diff| = {diff:.3g} "
          f"(logits up to {expected.abs().max().item():.3g}), argmax agrees: {same_argmax} "
          f"-> {'OK' if ok else 'MISMATCH'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", nargs="+", help="weights.pt files written by model_bench")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="max abs logit difference")
    args = parser.parse_args()
    results = [check(path, args.tolerance) for path in args.weights]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
