# The load-test image of docker-compose.yml: the loadtest binary (go run ./loadtest), built once
# and run from a small base, so `docker compose up` starts scraping seconds after the image exists
# instead of compiling inside golang on every start. docker compose up builds it the first time;
# `docker compose build loadtest` rebuilds it after a change.
#
# The build stage downloads the modules of go.mod (once, cached as a layer while go.mod and go.sum
# do not change) and builds a static binary; the run stage holds only that binary.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/loadtest ./loadtest

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/loadtest /loadtest
# The Prometheus metrics port the compose file gives as -metrics-addr.
EXPOSE 9464
ENTRYPOINT ["/loadtest"]
