# syntax=docker/dockerfile:1
# voltprobe image: `voltprobe check` in a Job, `voltprobe serve` as the DR-port responder.
#
# Build and push (replace the registry; the manifests default to the placeholder
# ghcr.io/voltprobe/voltprobe:0.1.0, override with `voltprobe manifest --image`):
#   docker build -t REGISTRY/voltprobe:0.1.0 .
#   docker push REGISTRY/voltprobe:0.1.0
# Multi-arch:
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/voltprobe:0.1.0 --push .
# Smoke test (no cluster, no root):
#   docker run --rm REGISTRY/voltprobe:0.1.0 demo

# Stage 1: build wheels for voltprobe and its dependencies (no compilers in the final image).
FROM python:3.12-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Stage 2: only the installed wheels, run as a non-root user.
FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# UID/GID 10001 match runAsUser/runAsGroup in k8s/*.yaml; numeric so runAsNonRoot can be verified.
RUN groupadd --gid 10001 voltprobe \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp \
        --shell /usr/sbin/nologin voltprobe
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels voltprobe
# The raw Job (root + NET_RAW) loads the SYN templates scapy built here instead of importing
# scapy in every run (probe/probers/rawcache.py); the file is root's, so only root uses it.
ENV VOLTPROBE_CACHE_DIR=/opt/voltprobe/cache
RUN python -c "from probe.probers import rawcache; rawcache.templates()"
USER 10001:10001
WORKDIR /tmp
# 5555: `voltprobe serve` (the responder) listens on the DR port.
EXPOSE 5555
ENTRYPOINT ["voltprobe"]
CMD ["--help"]
