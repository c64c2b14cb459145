#!/usr/bin/env bash
# Batch-1 latency of larq-zoo's BinaryDenseNet28 at 64 px on Larq Compute Engine (LCE, the
# TFLite-based BNN runtime) with 1 and 2 threads, next to fedsmear's binary engine on the same
# shape (bench/infer_roofline_bench's interleaved latency), on this machine:
#
#   bench/py/lce_compare.sh [--seconds 20]
#
# Creates a venv (LCE_VENV, default /tmp/fedsmear-lce-venv) and pip-installs
# larq-compute-engine, larq-zoo and tensorflow < 2.16 (larq needs Keras 2); if PyPI has no wheel
# for this Python it says so and stops (exit 3). Converts BinaryDenseNet28 (random weights,
# 8 classes, 64x64x3 input) with lce.convert_keras_model, times Interpreter.predict on one image
# with num_threads 1 and 2, without and with XNNPACK for the float ops, in rotating order
# (median), then runs
# BUILD_DIR/bench/infer_roofline_bench (default build-h) for the same. Weights are random on
# both sides: speed does not depend on them. Prints both; writes nothing into the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=20
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lce_compare: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
venv=${LCE_VENV:-/tmp/fedsmear-lce-venv}
build_dir=${BUILD_DIR:-build-h}
python=${PYTHON:-python3}

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
if ! "$venv/bin/python" -m pip install -q "tensorflow<2.16" larq-compute-engine larq-zoo; then
  echo "lce_compare: no installable larq-compute-engine / larq-zoo / tensorflow<2.16 wheels" \
       "for $("$venv/bin/python" --version) on PyPI" >&2
  exit 3
fi

"$venv/bin/python" - "$seconds" <<'EOF'
import statistics
import sys
import time

import numpy as np
import larq_compute_engine as lce
import larq_zoo as lqz
import tensorflow as tf
from larq_compute_engine.tflite.python.interpreter import Interpreter

seconds = float(sys.argv[1])
tf.random.set_seed(1)
model = lqz.literature.BinaryDenseNet28(input_shape=(64, 64, 3), weights=None, num_classes=8)
flatbuffer = lce.convert_keras_model(model)
print(f"LCE {lce.__version__}, TensorFlow {tf.__version__}, larq-zoo BinaryDenseNet28 64 px: "
      f"{len(flatbuffer) / 1e6:.2f} MB flatbuffer")
x = np.random.default_rng(2).standard_normal((1, 64, 64, 3)).astype(np.float32)
# (threads, XNNPACK for the float ops); LCE's binary ops are its own kernels either way.
configs = [(1, False), (2, False), (1, True), (2, True)]
interpreters = {c: Interpreter(flatbuffer, num_threads=c[0], use_xnnpack=c[1]) for c in configs}
times = {c: [] for c in configs}
for c in configs:
    interpreters[c].predict(x)  # warm-up
start = time.perf_counter()
rounds = 0
while time.perf_counter() - start < seconds:
    shift = rounds % len(configs)  # rotate the order every round
    for c in configs[shift:] + configs[:shift]:
        t0 = time.perf_counter()
        interpreters[c].predict(x)
        times[c].append(time.perf_counter() - t0)
    rounds += 1
print(f"LCE batch 1, {rounds} rounds, order rotated (Interpreter.predict, wall time, median):")
for c in configs:
    m = statistics.median(times[c])
    print(f"  {c[0]} thread(s), xnnpack {str(c[1]).lower():5}: {m * 1e6:9.1f} us = {1 / m:6.1f} img/s")
for xnn in (False, True):
    m1, m2 = statistics.median(times[(1, xnn)]), statistics.median(times[(2, xnn)])
    print(f"  2 threads / 1 thread (xnnpack {str(xnn).lower()}): x{m1 / m2:.2f} images/s")
EOF

bench="$build_dir/bench/infer_roofline_bench"
if [[ ! -x "$bench" ]]; then
  echo "lce_compare: $bench is missing (cmake --build $build_dir --target infer_roofline_bench)" >&2
  exit 1
fi
echo "fedsmear binary engine, same shape:"
"$bench" --benchmark_filter=NONE --latency_seconds="$seconds" 2>&1 |
  grep -v '^Failed to match any benchmarks' | sed -n '/batch-1 latency/,$p'
