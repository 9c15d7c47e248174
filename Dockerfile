# Warroom: one static binary in a minimal image.
#   docker build -t warroom .
#   docker run -p 8080:8080 -v warroom-data:/data -v $PWD/warroom.yaml:/etc/warroom/warroom.yaml:ro \
#     -e SLACK_BOT_TOKEN -e SLACK_SIGNING_SECRET -e WARROOM_WEBHOOK_TOKEN warroom

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0: the SQLite driver (modernc.org/sqlite) is pure Go, so the
# binary is fully static.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/warroom ./cmd/warroom \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/warroom /usr/local/bin/warroom
COPY --from=build --chown=65532:65532 /out/data /data
# The database lives on the /data volume; the config is mounted read-only.
ENV WARROOM_DB=/data/warroom.db \
    WARROOM_LISTEN=:8080 \
    WARROOM_CONFIG=/etc/warroom/warroom.yaml
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/warroom"]
CMD ["serve"]
