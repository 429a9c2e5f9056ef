#!/usr/bin/env bash
# The GPU image's system step (a Dockerfile RUN line, as root, on NVIDIA's CUDA base): npm beside the copied node binary,
# and the unprivileged user the service runs as (Node's own images have it; CUDA's do not).
set -euo pipefail
ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
id node >/dev/null 2>&1 || useradd --create-home --uid 1000 --shell /usr/sbin/nologin node
node --version
