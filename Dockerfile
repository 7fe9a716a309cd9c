# syntax=docker/dockerfile:1
# The CPU image: docker build -t lumen-face .
# Variants: deploy/docker/cuda.Dockerfile (NVIDIA GPU) and deploy/docker/rknn.Dockerfile (Rockchip NPU, arm64).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the sources are not here yet, the CPU image needs no RKNN addon, and
# onnxruntime-node's CPU binaries ship inside the package.
RUN npm ci --ignore-scripts
COPY tsconfig.json app.ts server.ts ./
COPY cli ./cli
COPY server ./server
COPY src ./src
COPY plugins ./plugins
COPY routes ./routes
COPY grpc ./grpc
COPY openapi ./openapi
# Compile once here (npm start would recompile), drop dev packages, and keep only this
# platform's ONNX Runtime binaries (the package carries darwin, win32 and both linux arches).
RUN npx tsc -p tsconfig.json \
 && npm prune --omit=dev --ignore-scripts \
 && cd node_modules/onnxruntime-node/bin/napi-v6 \
 && rm -rf darwin win32 \
 && find linux -mindepth 1 -maxdepth 1 ! -name "$(node -p process.arch)" -exec rm -rf {} +
# Optional: bake a pack into the image (docker build --build-arg PACK=scrfd_10g_iresnet50 .), so pods start
# offline and every node pulls it once with the image, as deploy/kubernetes does. Empty: the pack is
# downloaded into /cache on first start instead.
ARG PACK=
ARG PACK_PRECISION=fp16
RUN mkdir -p /app/packs \
 && if [ -n "$PACK" ]; then \
      LUMEN_FACE_CACHE_DIR=/app/packs LUMEN_FACE_MODEL_NAME="$PACK" LUMEN_FACE_PRECISION="$PACK_PRECISION" node dist/cli/main.js fetch; \
    fi

FROM ${NODE_IMAGE} AS runtime
# tini is PID 1: it forwards SIGTERM to node and reaps zombies.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    LUMEN_FACE_HOST=0.0.0.0 \
    LUMEN_FACE_PORT=8000 \
    LUMEN_FACE_CACHE_DIR=/cache \
    LUMEN_FACE_LOCAL_DIR=/packs
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The gRPC contract, read when LUMEN_FACE_GRPC_PORT turns gRPC on (grpc/protocol.ts).
COPY --from=build /app/grpc/*.proto ./grpc/
COPY --from=build /app/packs /packs
RUN mkdir -p /cache && chown node:node /cache
VOLUME ["/cache"]
USER node
EXPOSE 8000
# Ready means both models are loaded; the start period covers a first download of the pack.
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LUMEN_FACE_PORT||8000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server.js"]
