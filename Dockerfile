# One image for every WorldModel service except Redis: Flower, GPU workers, sandbox workers.
#
#   docker compose build                       # CPU torch (a test box, a sandbox-only box)
#   docker compose build --build-arg TORCH_INDEX_URL=<ROCm wheel index> \
#                        --build-arg TORCH_SPEC=torch==2.13.0
#
# For AMD GPUs pass the ROCm wheel index that matches the host driver (pytorch.org's install
# selector names it), or start FROM a ROCm PyTorch base image and keep its torch. A sandbox
# worker never imports torch, so its image could skip it; one image keeps the recipe simple.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

# Sandbox: QEMU for single-use guests and the tools that build the guest image.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      qemu-system-x86 qemu-utils cpio zstd openssh-client procps \
 && rm -rf /var/lib/apt/lists/*

ARG TORCH_SPEC=torch==2.13.0
ARG TORCH_INDEX_URL=
RUN if [ -n "$TORCH_INDEX_URL" ]; then \
      pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" "$TORCH_SPEC"; \
    else \
      pip install --no-cache-dir "$TORCH_SPEC"; \
    fi

WORKDIR /opt/worldmodel
COPY . /opt/worldmodel
RUN pip install --no-cache-dir -e ".[model,vm,workers]"

# Unprivileged by default; device access comes from group_add in docker-compose.yml.
RUN useradd --system --create-home --home-dir /var/lib/worldmodel worldmodel
USER worldmodel
ENV WM_HOME=/var/lib/worldmodel PYTHONUNBUFFERED=1
CMD ["wm", "--help"]
