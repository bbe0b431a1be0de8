# One image for every Dripline process (worker, api, migrate); docker-compose.yml picks the
# command. glibc (bookworm), not Alpine: the Temporal worker's native core ships glibc builds.
FROM node:20-bookworm-slim

WORKDIR /app

# There is no compile step: processes run the TypeScript through tsx (a devDependency), so dev
# dependencies are installed too. Lockfile first, so source edits reuse this layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY src ./src

ENV NODE_ENV=production
USER node

# `node --import tsx` rather than `npm run`/`tsx`: one process, so SIGTERM from `docker stop`
# reaches the worker directly and it can drain its activities.
CMD ["node", "--import", "tsx", "src/worker/main.ts"]
