# embedserve container image.
#
#   docker build -t embedserve .
#   docker run --rm -p 8080:8080 --read-only embedserve                 # bundled demo model
#   docker run --rm -p 8080:8080 --read-only -v /srv/models:/models:ro embedserve
#
# Layout inside the image (override any of it with a read-only mount at the same path, or with
# the EMBEDSERVE_* variable):
#   /models/model/           Hugging Face model directory (config.json, tokenizer.json,
#                            model.safetensors or shards)       EMBEDSERVE_MODEL_DIR
#   /models/word2vec.bin     word2vec store                     EMBEDSERVE_WORD2VEC
#   /etc/embedserve/config.toml  settings file (config/default.toml)  EMBEDSERVE_CONFIG
# Nothing is written at run time, so the root filesystem can be mounted read-only.

# Dependencies are compiled in their own layer, keyed on the cargo-chef recipe (Cargo.toml and
# Cargo.lock only) and vendor/, so editing the source rebuilds just the crate itself.
FROM lukemathwalker/cargo-chef:latest-rust-1.95-slim-bookworm AS chef
# The release profile keeps line tables for local profiling; in the image they would make the
# binary 63 MB instead of 12 MB. Panic messages keep their file:line and backtraces their function
# names without them. Set here, so the cooked dependencies and the final build use the same profile.
ENV CARGO_PROFILE_RELEASE_DEBUG=none
# USearch (the word-vector index) and its cxx bridge are C++, compiled by cc-rs: the slim image has
# a C compiler but no C++ one.
RUN apt-get update \
    && apt-get install -y --no-install-recommends g++=4:12.2.0-3 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /build/recipe.json recipe.json
# Patched dependencies (vendor/README.md) are not workspace members, so the recipe leaves them out:
# they are cooked with the other dependencies.
COPY vendor/ vendor/
RUN cargo chef cook --release --locked --recipe-path recipe.json --bin embedserve
COPY . .
RUN cargo build --release --locked --bin embedserve

# The repository keeps the demo model and its word2vec store side by side in models/demo/; the
# image splits them into the two documented paths so each can be replaced on its own.
FROM debian:bookworm-slim AS demo
COPY models/demo/ /demo/
RUN mkdir -p /out/model \
    && mv /demo/word2vec.bin /out/word2vec.bin \
    && mv /demo/* /out/model/ \
    && chmod -R a+rX,go-w /out

# distroless/cc: glibc and libgcc only, no shell; user nonroot (65532).
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
LABEL org.opencontainers.image.title="embedserve" \
      org.opencontainers.image.description="HTTP microservice serving LLM input-embedding rows and word2vec similarity" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /build/target/release/embedserve /usr/local/bin/embedserve
COPY config/default.toml /etc/embedserve/config.toml
COPY --from=demo /out/ /models/
ENV EMBEDSERVE_CONFIG=/etc/embedserve/config.toml \
    EMBEDSERVE_LISTEN=0.0.0.0:8080 \
    EMBEDSERVE_MODEL_DIR=/models/model \
    EMBEDSERVE_WORD2VEC=/models/word2vec.bin \
    EMBEDSERVE_HEALTHCHECK_ADDR=127.0.0.1:8080
USER 65532:65532
WORKDIR /home/nonroot
EXPOSE 8080
# The binary probes /health/ready itself: the image has no shell or curl. start-period leaves
# time to map a large model before failed probes count.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/embedserve", "healthcheck"]
# SIGTERM drains in-flight requests for drain_timeout_secs, then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/embedserve"]
CMD ["serve"]
