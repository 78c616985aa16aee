# One image for every role: `serve`, `worker`, `migrate`, `start` (see compose.yaml).

# Build: every dependency, then `npm run build` (TypeScript → dist/, the MJML templates precompiled),
# then only the production dependencies are kept.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The sources are not here yet for `prepare` (the build); `npm rebuild` runs the dependencies' own
# install scripts (better-sqlite3's binary), which --ignore-scripts skipped.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Run: dist/ and what it reads (migrations, public); no src/, so bin/paperboy.js runs dist/, and
# neither tsx nor MJML is installed.
FROM node:20-bookworm
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY bin bin
COPY migrations migrations
COPY public public
ENV NODE_ENV=production HOST=0.0.0.0
USER node
ENTRYPOINT ["node", "bin/paperboy.js"]
CMD ["start"]
