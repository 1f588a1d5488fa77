# syntax=docker/dockerfile:1
# Andon's container image: build the web client, build the server, then a slim
# runtime that runs as a non-root user. `scripts/check-runtime-image` assembles
# this file's runtime stage on the host and starts it, so the runtime's contents
# are tested without a container engine.

# --- the web client ---------------------------------------------------------
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci
COPY web/ ./
RUN npm run build

# --- the server --------------------------------------------------------------
FROM rust:1.95-bookworm AS server
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY Cargo.toml Cargo.lock build.rs ./
COPY actors actors
COPY benches benches
COPY migrations migrations
COPY src src
COPY tests tests
RUN cargo build --release --locked --bin andon

# --- the runtime ---------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /var/lib/andon andon
COPY --from=server /build/target/release/andon /usr/local/bin/andon
COPY --from=web /web/dist /usr/share/andon/web
ENV ANDON_LISTEN=0.0.0.0:8080 \
    ANDON_WEB_DIR=/usr/share/andon/web \
    ANDON_STORAGE=local:/var/lib/andon/files \
    ANDON_LOG_FORMAT=json
USER andon
WORKDIR /var/lib/andon
VOLUME ["/var/lib/andon"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["/usr/local/bin/andon", "health"]
ENTRYPOINT ["/usr/local/bin/andon"]
CMD ["serve"]
