# syntax=docker/dockerfile:1
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
COPY native ./native
# The sources are not here yet: skip `prepare` (the build), build the addon, and build below.
RUN npm ci --ignore-scripts && node native/install.mjs
COPY tsconfig.json app.ts server.ts ./
COPY cli ./cli
COPY src ./src
COPY plugins ./plugins
COPY routes ./routes
COPY openapi ./openapi
COPY test ./test
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    LUMEN_FACE_HOST=0.0.0.0 \
    LUMEN_FACE_PORT=8000 \
    LUMEN_FACE_CACHE_DIR=/cache
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/native/build/Release ./native/build/Release
COPY --from=build /app/dist ./dist
RUN mkdir -p /cache && chown node:node /cache
VOLUME ["/cache"]
EXPOSE 8000
USER node
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/server.js"]
