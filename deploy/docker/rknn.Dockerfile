# syntax=docker/dockerfile:1
# Rockchip NPU image (RK3588, RK3576, RK356x), arm64, from the repository root:
#   docker buildx build --platform linux/arm64 -f deploy/docker/rknn.Dockerfile -t lumen-face:rknn .
#   docker run --device /dev/dri -v /usr/lib/librknnrt.so:/usr/lib/librknnrt.so:ro \
#     -v /srv/models:/models:ro -e LUMEN_FACE_LOCAL_DIR=/models -p 8000:8000 lumen-face:rknn
# librknnrt.so is Rockchip's and must match the board's NPU driver, so it is mounted from the host,
# not baked in. Put it elsewhere with LUMEN_FACE_RKNN_LIBRARY.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM --platform=linux/arm64 ${NODE_IMAGE} AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
# The addon dlopens librknnrt.so at run time, so it builds without the Rockchip SDK.
COPY native ./native
RUN node native/install.mjs && test -f native/build/Release/lumen_rknn.node
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
 && rm -rf darwin win32 linux/x64

FROM --platform=linux/arm64 ${NODE_IMAGE} AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    LUMEN_FACE_HOST=0.0.0.0 \
    LUMEN_FACE_PORT=8000 \
    LUMEN_FACE_CACHE_DIR=/cache \
    LUMEN_FACE_RUNTIME=rknn \
    LUMEN_FACE_RKNN_LIBRARY=/usr/lib/librknnrt.so
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
# The addon is found from native/binding.gyp, which marks the package root.
COPY --from=build /app/native/binding.gyp ./native/binding.gyp
COPY --from=build /app/native/build/Release/lumen_rknn.node ./native/build/Release/lumen_rknn.node
COPY --from=build /app/dist ./dist
# The gRPC contract, read when LUMEN_FACE_GRPC_PORT turns gRPC on (grpc/protocol.ts).
COPY --from=build /app/grpc/*.proto ./grpc/
RUN mkdir -p /cache && chown node:node /cache
VOLUME ["/cache"]
# The NPU device node (/dev/dri/renderD*) is usually group "render" or "video": run with
# --group-add $(stat -c %g /dev/dri/renderD129) if node cannot open it.
USER node
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LUMEN_FACE_PORT||8000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server.js"]
