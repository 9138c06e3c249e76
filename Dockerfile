# The API and the worker share one image; docker-compose.yml picks the command.
# Node 26: the Active LTS line (since 2026-10-28); Debian slim, for the Temporal SDK's glibc binary.
FROM node:26-trixie-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src
USER node
EXPOSE 3000
# tsx runs the TypeScript sources directly; `--import tsx` keeps node as PID 1, so it gets the
# container's SIGTERM itself and stops within SHUTDOWN_TIMEOUT_SECONDS (docker-compose.yml gives
# it longer before SIGKILL).
CMD ["node", "--import", "tsx", "src/api/server.ts"]
