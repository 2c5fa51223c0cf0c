# syntax=docker/dockerfile:1
# Cohortline's container image: one static binary (CGO_ENABLED=0) on
# distroless/static, which holds CA certificates, /etc/passwd and tzdata
# and nothing else (no shell), run as its nonroot user (65532).
#
#   docker build -t cohortline .
#   docker run --rm cohortline --help
#
# The default command is the streaming daemon with the config mounted at
# /etc/cohortline/cohortline.yaml; secrets come from the environment
# (COHORTLINE_SECRET, COHORTLINE_CLICKHOUSE_PASSWORD), never the image.
# deploy/docker-compose.yml and deploy/k8s/ run it (deploy/README.md).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# With .git in the context, Go stamps the commit into the binary: the
# privacy ledger's code_version names it.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags='-s -w' -o /out/cohortline ./cmd/cohortline

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cohortline /usr/local/bin/cohortline
USER 65532:65532
# /metrics, /healthz, /readyz (http.listen must be 0.0.0.0:9464 in a container)
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/cohortline"]
CMD ["run", "--config", "/etc/cohortline/cohortline.yaml"]
