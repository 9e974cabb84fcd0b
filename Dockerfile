# syntax=docker/dockerfile:1
# Gatehouse's container image: `docker build -t gatehouse .` (compose.yaml runs it with PostgreSQL and
# Redis). No Docker daemon runs where Gatehouse is developed: test/e2e/dockerfile-replay.test.ts replays
# these steps outside a container and fails when a RUN line here is one it does not know.
# docs/deployment.md says what that does and does not cover.
ARG NODE_IMAGE=node:20-bookworm-slim

# 1. Compile: every dependency, then TypeScript to dist/.
FROM ${NODE_IMAGE} AS build
# Compilers for the native modules' fallback (better-sqlite3 builds from source when no prebuilt binary fits).
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# 2. The runtime's dependencies only (no TypeScript, tsx or test tools), built where compilers exist.
FROM ${NODE_IMAGE} AS runtime-deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# 3. The image: compiled JavaScript, production dependencies, no compilers, no source.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    GATEHOUSE_DATA_DIR=/data
WORKDIR /app
COPY --from=runtime-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY scripts/build-state.js ./scripts/
# The data dir (SQLite, generated files) is the only place Gatehouse writes: a volume, so the container's
# root file system can be read-only (docker run --read-only). Runs as the image's unprivileged `node` user.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# GET /healthz with Node itself: the image has no curl or wget.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains in-flight requests for up to SHUTDOWN_TIMEOUT (10 s); give `docker stop` longer (-t 20).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
