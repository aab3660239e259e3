# The examples/server service as a static binary on a distroless base.
#
#   docker build -t usermgmt .
#   docker run -p 8000:8000 -e JWT_SECRET_KEY=... -v usermgmt-data:/data usermgmt
#
# See compose.sqlite.yml and compose.postgres.yml for complete setups.

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so that code changes reuse this layer: the workspace
# (go.work) and the go.mod and go.sum of its modules (the library at the
# root, examples/ with the server, bench/).
COPY go.work go.mod go.sum ./
COPY examples/go.mod examples/go.sum ./examples/
COPY bench/go.mod bench/go.sum ./bench/
RUN go mod download
COPY . .
# CGO_ENABLED=0: the SQLite driver is pure Go, so the binary is static.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/usermgmt-server ./examples/server
# The data directory, owned by distroless's nonroot user (65532): the
# final image has no shell to chown with.
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0750 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/usermgmt-server /usermgmt-server
# SQLite database, generated secrets and log files live in DATA_DIR. The
# directory is the nonroot user's before VOLUME declares it, so a fresh
# named volume starts with that owner (Docker copies the image's /data
# into it); a bind mount keeps its host owner and must be writable by
# uid 65532.
COPY --from=build --chown=65532:65532 /out/data /data
ENV ADDR=:8000 DATA_DIR=/data
VOLUME /data
EXPOSE 8000
USER nonroot:nonroot
# The image has no shell and no curl: the server's own healthcheck command
# asks GET /ready on ADDR (the database and, with REDIS_URL, Redis) and
# exits 0 or 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usermgmt-server", "healthcheck"]
ENTRYPOINT ["/usermgmt-server"]
