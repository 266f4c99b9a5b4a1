# The keeper daemon on Node 20. No build step: tsx runs the TypeScript sources, as `npm start` does.
#   docker build -t delta-neutral-keeper .
#   docker run --env-file .env -v keeper-data:/data -p 9464:9464 delta-neutral-keeper
# docker-compose.yml wires it to an anvil fork, a data volume and a /healthz healthcheck.

# Native modules (better-sqlite3) come prebuilt for glibc; the toolchain is here only for when
# no prebuilt binary matches, and stays out of the runtime image.
FROM node:20-slim AS deps
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

FROM node:20-slim
ENV NODE_ENV=production \
    DATA_DIR=/data \
    METRICS_PORT=9464 \
    METRICS_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY contracts-abi ./contracts-abi
COPY src ./src
# The journal lives on a volume owned by the unprivileged user; the devnet dump cache (only used
# when RPC_URLS is empty) is writable too.
RUN mkdir -p /data node_modules/.cache && chown node:node /data node_modules/.cache
USER node
VOLUME ["/data"]
EXPOSE 9464
# Same probe as the compose healthcheck; slim images have no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "--import", "tsx", "src/cli.ts"]
CMD ["run"]
