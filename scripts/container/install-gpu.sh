#!/usr/bin/env bash
# The GPU image's install step: onnxruntime's CUDA 12 execution provider (from NuGet; package.json's allowScripts and
# the project's .npmrc skip it elsewhere, so its install script is run here by hand) and tfjs-node-gpu (libtensorflow from Google's storage). `--engine auto` then serves with onnxruntime on
# the GPU, falling back to the CPU, with the reason logged, where the CUDA library cannot load.
set -euo pipefail
ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js
npm install --no-save --omit=dev --no-audit --no-fund @tensorflow/tfjs-node-gpu@4.22.0
