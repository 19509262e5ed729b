# One image for every role: the command picks api, worker or migrate (docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# patches/: fixes to dependencies, applied by the install (docs/adr/0022).
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev && npm cache clean --force
COPY . .
USER node
EXPOSE 3000
# node itself is PID 1's child (compose sets init: true) and gets SIGTERM directly,
# so graceful shutdown runs; tsx is loaded as a module hook, no build step.
CMD ["node", "--import", "tsx", "bin/api.ts"]
