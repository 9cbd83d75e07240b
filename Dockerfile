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
#
# Reproducible builds:
# - Dependencies install from requirements.lock (pinned versions, sha256 of every file;
#   pip refuses anything else). Regenerate it after changing pyproject.toml, with
#   Python 3.12 and pip-tools:
#     pip-compile --allow-unsafe --generate-hashes --no-emit-find-links \
#         --no-emit-index-url --output-file=requirements.lock --strip-extras pyproject.toml
# - The base image is pinned by tag below; pin it by digest at build time (a tag can
#   move, a digest cannot):
#     docker buildx imagetools inspect python:3.12-slim-bookworm     # prints Digest: sha256:...
#     docker build --build-arg PYTHON_IMAGE=python:3.12-slim-bookworm@sha256:DIGEST \
#         -t REGISTRY/voltprobe:0.1.0 .
#   and reference the pushed image by its digest too: voltprobe manifest
#   --image REGISTRY/voltprobe@sha256:... (k8s/runner-policy.yaml admits exactly that image).
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# Stage 1: the locked dependencies (hashes checked) and voltprobe's own wheel.
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY requirements.lock .
RUN pip download --no-cache-dir --require-hashes --only-binary=:all: \
        --dest /wheels -r requirements.lock
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Stage 2: only the installed wheels, run as a non-root user.
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# UID/GID 10001 match runAsUser/runAsGroup in k8s/*.yaml; numeric so runAsNonRoot can be verified.
RUN groupadd --gid 10001 voltprobe \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp \
        --shell /usr/sbin/nologin voltprobe
# the dependencies exactly as locked (hashes checked again), then voltprobe without deps
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    --mount=type=bind,from=build,source=/src/requirements.lock,target=/tmp/requirements.lock \
    pip install --no-index --find-links /wheels --require-hashes -r /tmp/requirements.lock \
    && pip install --no-index --no-deps --find-links /wheels voltprobe
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
