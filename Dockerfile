# One image for every role: `serve`, `worker`, `migrate`, `start` (see compose.yaml).
FROM node:20-bookworm
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV NODE_ENV=production HOST=0.0.0.0
USER node
ENTRYPOINT ["node", "bin/paperboy.js"]
CMD ["start"]
