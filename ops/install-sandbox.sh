#!/bin/sh
# Install the host packages the VM sandbox needs (Debian/Ubuntu, as root):
#   qemu-system-x86  runs the guest VMs (KVM when it works, TCG emulation otherwise);
#   apt, dpkg, cpio  download and unpack the guest's Debian packages into its initramfs
#                    (`wm sandbox build-image` runs `apt-get download`, so the host's apt
#                    sources must reach a Debian bookworm mirror).
# Then: pip install 'worldmodel[vm]' && wm sandbox build-image && wm sandbox status
set -eu
if [ "$(id -u)" -ne 0 ]; then
  echo "run as root (or with sudo): $0" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends qemu-system-x86 cpio dpkg apt ca-certificates
if ! apt-cache show linux-image-cloud-amd64 python3-sympy dropbear-bin >/dev/null 2>&1; then
  echo "warning: the apt sources lack bookworm packages the image needs" \
       "(linux-image-cloud-amd64, python3-sympy, dropbear-bin); add a Debian 12 mirror" >&2
  exit 1
fi
qemu-system-x86_64 --version | head -n 1
