# Labforge in a container, driving the host's Docker engine through its socket.
# Build: docker compose build   Run: docker compose up
FROM node:20-bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      docker.io debootstrap ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run db:generate && npx next build
ENV NODE_ENV=production PORT=3000 LABFORGE_DATA_DIR=/data
EXPOSE 3000
CMD ["node", "bin/labforge.mjs", "serve"]
