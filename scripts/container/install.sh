#!/usr/bin/env bash
# The image's install step (a Dockerfile RUN line). test/ops/dockerfile.test.ts runs it outside Docker too, so it cannot rot.
# Production dependencies from the lock file, then what a Linux server never loads is removed (about 600 of 800 MB).
set -euo pipefail
npm ci --omit=dev --omit=peer --no-audit --no-fund --loglevel=error

arch=$(node -p process.arch)
abi=$(node -p process.versions.modules)
# TF.js's browser bundles and source maps: Node loads dist/*.node.js and the dist/ module tree only.
find node_modules/@tensorflow -path '*/dist/*' \( -name '*.map' -o -name '*.html' -o -name '*.min.js' -o -name '*.es2017.js' -o -name '*.fesm.js' -o -name '*.d.ts' -o -name '*.tsbuildinfo' \) -delete
find node_modules/@tensorflow -path '*/dist/miniprogram' -prune -exec rm -rf {} +
# onnxruntime's binaries for other systems and processors.
for dir in node_modules/onnxruntime-node/bin/napi-v*; do
  find "$dir" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
  find "$dir/linux" -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} +
done
# uWebSockets.js builds for other Node versions (the optional uws transport).
uws=node_modules/@trufflesuite/uws-js-unofficial
if [ -d "$uws" ]; then
  find "$uws" -name 'uws_*.node' ! -name "uws_linux_${arch}_${abi}.node" -delete
  rm -rf "$uws/docs"
fi
find node_modules -name '*.map' -delete
