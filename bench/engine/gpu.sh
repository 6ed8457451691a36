#!/usr/bin/env bash
# The big-model bench on a CUDA machine: the TinyLlama-shaped 1.1B (B=1 T=256 in f32 and 16-bit,
# T=2048 with --recompute) with onnxruntime's CUDA execution provider; prints the table.
#   bench/engine/gpu.sh              (3 runs per case)
#   bench/engine/gpu.sh --rounds 5
# Needs an NVIDIA GPU with CUDA 12 and cuDNN 9 libraries where onnxruntime finds them. The
# repository installs onnxruntime-node without its CUDA binaries; they are fetched here once.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v nvidia-smi > /dev/null || ! nvidia-smi -L > /dev/null 2>&1; then
  echo "gpu.sh: no NVIDIA GPU here (nvidia-smi -L failed): run it on a CUDA machine" >&2
  exit 1
fi
nvidia-smi -L

if ! ls node_modules/onnxruntime-node/bin/napi-v*/linux/x64/libonnxruntime_providers_cuda.so > /dev/null 2>&1; then
  echo "gpu.sh: installing onnxruntime-node's CUDA 12 binaries…" >&2
  (cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js)
fi

npm run bench:engine -- 1b 1b-long --execution-provider cuda "$@"
