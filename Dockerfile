# One image for every Dripline process (worker, api, migrate); docker-compose.yml picks the
# command. glibc (bookworm), not Alpine: the Temporal worker's native core ships glibc builds.

# Build stage: with dev dependencies (TypeScript, tsx, Vite), `npm run build` compiles src/ to dist/,
# copies the SQL migrations beside the code that reads them, pre-bundles the workflow code and
# builds the console (web/) into dist/console, which the API serves at /console.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Lockfile first, so source edits reuse the dependency layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/console.ts ./scripts/
COPY temporal/paths.cjs ./temporal/
COPY src ./src
COPY web ./web
RUN npm run build

# Runtime stage: production dependencies and dist/ only; no TypeScript, no tsx, no sources.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node

# `node` itself rather than `npm run`: one process, so SIGTERM from `docker stop` reaches the
# worker directly and it can drain its activities. It loads dist/workflow-bundle.js rather than
# bundling the workflow code at every start. Its flags are src/worker/node-flags.ts's.
CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=30", "dist/worker/main.js"]
