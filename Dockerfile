# Multi-stage build of the release binary. Templates, static files and migrations are
# compiled in, so the runtime image holds one binary and the fonts credential PDFs are
# printed with (Latin and Vietnamese, Arabic, CJK). It serves against DATABASE_URL.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY .cargo .cargo
COPY .sqlx .sqlx
COPY src src
COPY templates templates
COPY static static
COPY migrations migrations
COPY benches benches
RUN cargo build --release --locked --bin attest
# The language model of suggestions, inside the image: containers never fetch it.
RUN ./target/release/attest model fetch --dir /src/model

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
    fonts-dejavu-core fonts-hosny-amiri fonts-droid-fallback \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/attest attest
COPY --from=build /src/target/release/attest /usr/local/bin/attest
COPY --from=build /src/model /opt/attest/model
USER attest
WORKDIR /var/lib/attest
# Files stay in the data folder unless ATTEST_STORAGE names a bucket, e.g.
#   ATTEST_STORAGE='s3://attest-evidence?endpoint=https://s3.eu-west-2.amazonaws.com&region=eu-west-2'
# with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) set: then any
# number of these containers can serve one database (docs/deploy.md).
ENV ATTEST_ADDR=0.0.0.0:3000 \
    ATTEST_DATA_DIR=/var/lib/attest \
    ATTEST_STORAGE=local \
    ATTEST_MODEL_DIR=/opt/attest/model \
    RUST_LOG=info,sqlx=warn
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/3000 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ready <&3"]
# DATABASE_URL must be set: the image carries no PostgreSQL of its own.
CMD ["attest", "serve"]
