# The API and the worker share one image; docker-compose.yml picks the command.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src
USER node
EXPOSE 3000
# tsx runs the TypeScript sources directly; `--import tsx` keeps node as PID 1 for signals.
CMD ["node", "--import", "tsx", "src/api/server.ts"]
