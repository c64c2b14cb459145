#!/usr/bin/python3
"""Training and inference speed of the Python twin; the counterpart of bench/model_bench.cc.

Training: train mode, forward + cross-entropy + backward + Adam step (lr 1e-3) + latent-weight
clip, on random inputs and labels. Inference: eval mode under no_grad. Each phase warms up
first, then runs whole steps until about --seconds have passed; images/s = images / time.

  /usr/bin/python3 bench/py/model_speed.py --arch bdn28 --size 64 --batch 32 --threads 2 \
      --seconds 10 --json
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from binary_densenet import make_model  # noqa: E402


def timed(step, seconds: float, warmup: int, batch: int) -> float:
    """Runs `step` `warmup` times, then until `seconds` elapse; returns images per second."""
    for _ in range(warmup):
        step()
    steps = 0
    start = time.perf_counter()
    while True:
        step()
        steps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return steps * batch / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", default="bdn28")
    parser.add_argument("--size", type=int, default=64, help="input side in pixels")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--classes", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0, help="timed seconds per phase")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = make_model(args.arch, args.classes, args.size)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.randn(args.batch, 3, args.size, args.size)
    labels = torch.randint(0, args.classes, (args.batch,))

    def train_step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        model.clip_latent_weights()

    def infer_step():
        with torch.no_grad():
            model(images)

    model.train()
    train = timed(train_step, args.seconds, args.warmup, args.batch)
    model.eval()
    infer = timed(infer_step, args.seconds, args.warmup, args.batch)

    result = {
        "impl": "python",
        "torch": torch.__version__,
        "arch": args.arch,
        "size": args.size,
        "batch": args.batch,
        "threads": args.threads,
        "seconds": args.seconds,
        "train_img_s": round(train, 3),
        "infer_img_s": round(infer, 3),
        "loadavg_1m": round(os.getloadavg()[0], 2),  # other load skews 2-thread numbers a lot
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.arch} {args.size}px batch {args.batch}, {args.threads} threads (python): "
              f"train {train:.1f} img/s, inference {infer:.1f} img/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
