# syntax=docker/dockerfile:1
#
# promgate container image.
#
#   docker build -t promgate:0.1.0 .
#   docker run --rm -p 8080:8080 -p 8081:8081 promgate:0.1.0 --upstream=http://prometheus:9090 ...
#
# Base image: the official node:22 on Debian bookworm-slim, pinned to an exact Node release
# (Dependabot's docker ecosystem bumps it). Chosen over distroless nodejs22 because distroless
# tags do not carry the Node version (only a digest can pin them), and because bookworm is the
# Debian release promgate's test bed and CI run on. The runtime stage still keeps only what
# `node` needs: npm, npx, corepack and yarn are removed, so the image has no package manager
# to patch or abuse (a shell stays, for `kubectl exec` when debugging).
#
# Reproducible: dependencies come from package-lock.json via `npm ci` (no install scripts: no
# dependency needs one, and npm 11 on the test bed does not run them either); dev dependencies
# are pruned after the build; the runtime stage downloads nothing.
#
# Runtime: numeric non-root user 1000 (the image's `node` user; numeric so that Kubernetes'
# runAsNonRoot can verify it), code owned by root and read-only to the process, nothing
# written outside /tmp (readOnlyRootFilesystem works; mount an emptyDir at /tmp).

FROM node:22.23.3-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:22.23.3-bookworm-slim AS runtime
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
    /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
ENV NODE_ENV=production
WORKDIR /app
# package.json is needed at run time: its "type": "module" makes dist/*.js ES modules.
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
LABEL org.opencontainers.image.title="promgate" \
      org.opencontainers.image.description="Multi-tenant authorization proxy for Prometheus" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 1000:1000
# 8080: tenant API (--listen); 8081: /metrics, /healthz, /readyz (--metrics-listen).
EXPOSE 8080 8081
ENTRYPOINT ["node", "/app/dist/main.js"]
