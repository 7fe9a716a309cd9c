# syntax=docker/dockerfile:1
# NVIDIA GPU image (ONNX Runtime's CUDA 12 execution provider), from the repository root:
#   docker build -f deploy/docker/cuda.Dockerfile -t lumen-face:cuda .
#   docker run --gpus all -p 8000:8000 -v lumen-face-cache:/cache lumen-face:cuda
# The host needs the NVIDIA driver and the NVIDIA Container Toolkit.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04

FROM ${NODE_IMAGE} AS node

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
# onnxruntime-node's install script fetches the CUDA 12 provider libraries (outside the npm registry).
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js
COPY tsconfig.json app.ts server.ts ./
COPY cli ./cli
COPY server ./server
COPY src ./src
COPY plugins ./plugins
COPY routes ./routes
COPY grpc ./grpc
COPY openapi ./openapi
RUN npx tsc -p tsconfig.json \
 && npm prune --omit=dev --ignore-scripts \
 && cd node_modules/onnxruntime-node/bin/napi-v6 \
 && rm -rf darwin win32 linux/arm64

FROM ${CUDA_IMAGE} AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends tini ca-certificates && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --shell /usr/sbin/nologin lumen
# Node's official binaries need only glibc 2.28, so the node image's binary runs on this base.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
ENV NODE_ENV=production \
    LUMEN_FACE_HOST=0.0.0.0 \
    LUMEN_FACE_PORT=8000 \
    LUMEN_FACE_CACHE_DIR=/cache \
    LUMEN_FACE_DEVICE=cuda:0 \
    LUMEN_FACE_WORKERS=1
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The gRPC contract, read when LUMEN_FACE_GRPC_PORT turns gRPC on (grpc/protocol.ts).
COPY --from=build /app/grpc/*.proto ./grpc/
RUN mkdir -p /cache && chown lumen /cache
VOLUME ["/cache"]
USER lumen
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LUMEN_FACE_PORT||8000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server.js"]
