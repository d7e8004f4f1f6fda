#!/usr/bin/env bash
# The GPU path on a real GPU: cuDNN kernels, --device gpu, --mixed-precision,
# --strategy mirrored, a compare and a predict, timed against 2 CPU cores; writes
# bench/gpu_results.json (see bench/gpu_check.py). Needs an NVIDIA GPU with its driver
# and PyPI (make install, then TensorFlow's CUDA libraries from the `gpu` extra).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
    echo "Error: bench/gpu_check.sh needs an NVIDIA GPU, and nvidia-smi finds none on" \
        "this machine; run it on a machine with an NVIDIA GPU and its driver." >&2
    exit 2
fi
log=$(mktemp)
if ! { make install && .venv/bin/python -m pip install --quiet -e '.[gpu]'; } >"$log" 2>&1; then
    cause=$(grep -m 1 '^ERROR' "$log" || tail -n 1 "$log")
    echo "Error: installing forecast with TensorFlow's CUDA libraries failed (make install," \
        "then pip install -e '.[gpu]'; they need PyPI): $cause. Full log: $log" >&2
    exit 1
fi
exec .venv/bin/python bench/gpu_check.py "$@"
