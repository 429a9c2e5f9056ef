# aer-stream images.
#   docker build -t aer-stream .                  CPU (the default target, last below)
#   docker build --target gpu -t aer-stream:gpu . NVIDIA GPU: onnxruntime's CUDA provider, tfjs-node-gpu
# There is no Docker engine in CI: test/ops/dockerfile.test.ts runs the cpu target's steps outside Docker
# (copies, RUN lines, CMD, HEALTHCHECK), so every step that does work lives in scripts/container/.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

# Production dependencies from the lock file, pruned of what a Linux server never loads.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY scripts/container/install.sh scripts/container/install.sh
RUN scripts/container/install.sh

# The application: the CLI, its sources, the web demo with the client SDK it bundles, and the default model (with its ONNX graph).
FROM deps AS app
COPY bin bin
COPY src src
COPY clients/web clients/web
COPY clients/js/src clients/js/src
COPY models/default models/default
COPY models/telephone models/telephone
COPY scripts/container/healthcheck.js scripts/container/healthcheck.js

# GPU: Node on NVIDIA's CUDA 12 + cuDNN base; adds onnxruntime's CUDA provider and tfjs-node-gpu (both download at build).
FROM ${NODE_IMAGE} AS node
FROM ${CUDA_IMAGE} AS gpu
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
COPY scripts/container/gpu-setup.sh /usr/local/sbin/gpu-setup.sh
RUN /usr/local/sbin/gpu-setup.sh
ENV NODE_ENV=production AER_HOST=0.0.0.0 AER_PORT=8080 AER_ENGINE=auto
WORKDIR /app
COPY --from=app /app /app
RUN scripts/container/install-gpu.sh
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 CMD ["node", "scripts/container/healthcheck.js"]
CMD ["node", "bin/aer.js", "serve"]

# CPU, the default: Node's slim image, non-root, the app read-only to the user that runs it.
FROM ${NODE_IMAGE} AS cpu
ENV NODE_ENV=production AER_HOST=0.0.0.0 AER_PORT=8080 AER_ENGINE=auto
WORKDIR /app
COPY --from=app /app /app
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "scripts/container/healthcheck.js"]
CMD ["node", "bin/aer.js", "serve"]
