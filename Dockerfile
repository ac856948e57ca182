# twingate-ingest: worker, producer, setup and the other commands of the CLI.
#   docker build -t twingate-ingest .
#   docker run --rm twingate-ingest --help
# Configuration: the environment variables of src/platform/config/settings.ts (README, "Configuration").

# ---- build: compile TypeScript with the dev dependencies
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies and the compiled code only, as the unprivileged `node` user
FROM node:24-slim
ENV NODE_ENV=production \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9464
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
USER node
EXPOSE 9464
# /healthz of the metrics server (the worker's liveness); commands without a server have no healthcheck need
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.METRICS_PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/twingate-ingest.js"]
CMD ["worker"]
