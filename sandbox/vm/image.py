"""The guest image: find the built one for the current recipe, and read its manifest.

An image is a folder under the WorldModel home (`images/<recipe hash>/`) holding:
- `vmlinuz`: the kernel from Debian's cloud kernel package;
- `initramfs.cpio`: the whole root file system (busybox, dropbear, Python 3.11, numpy,
  sympy, the init script and the execution daemon), unpacked from Debian packages;
- `host_key.pub`: the guest's SSH host key, generated at build time and pinned by the client;
- `client_key`: the private key the host logs in with (its public half is in the image);
- `manifest.json`: the recipe hash, package versions, sizes, build time and the Python modules
  that were verified by importing each one inside a booted guest.

Owner-only (`sandbox.home`): the images folder and each image folder are 0700 and every file
in them 0600, since `initramfs.cpio` holds the guest's SSH host private key, `client_key` logs
in to every guest, and a saved state under `states/` is a guest's whole memory. `locate_image`
tightens an image built before this rule.

The folder name is the hash of the recipe (every file in `sandbox/image/` plus the builder's
version), so a changed recipe means a new image and `locate_image` refuses a stale one.

Not covered here: building an image (build.py), booting and saving VM state (qemu.py), SSH
(ssh.py), the pool (pool.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sandbox.executor import SandboxUnavailable
from sandbox.home import private_dir, tighten, wm_home

RECIPE_DIR = Path(__file__).resolve().parent.parent / "image"
# Bump when the build steps (build.py) change in a way that changes the image.
BUILDER_VERSION = "1"
BUILD_FIX = "run `wm sandbox build-image`"


@dataclass(frozen=True)
class ImagePaths:
    """Where one built image's files are."""

    root: Path

    @property
    def kernel(self) -> Path:
        return self.root / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.root / "initramfs.cpio"

    @property
    def host_key(self) -> Path:
        return self.root / "host_key.pub"

    @property
    def client_key(self) -> Path:
        return self.root / "client_key"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def states(self) -> Path:
        return self.root / "states"


def recipe_hash() -> str:
    """Hash of every recipe file and the builder version: the image's identity."""
    digest = hashlib.sha256(f"builder={BUILDER_VERSION}\n".encode())
    for path in sorted(RECIPE_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(RECIPE_DIR).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def images_dir() -> Path:
    """The `images` folder of the WorldModel home (created owner-only if missing)."""
    home = wm_home()
    return private_dir(home / "images", top=home)


def image_dir_for_recipe(base: Path | None = None) -> Path:
    return (base or images_dir()) / recipe_hash()[:16]


def locate_image(base: Path | None = None) -> ImagePaths:
    """The built image for the current recipe, or `SandboxUnavailable` naming the fix."""
    paths = ImagePaths(image_dir_for_recipe(base))
    if not paths.manifest.is_file():
        older = sorted(p.name for p in (base or images_dir()).glob("*") if p.is_dir())
        hint = f" (found only images for other recipes: {', '.join(older)})" if older else ""
        raise SandboxUnavailable(
            f"no VM image for the current sandbox recipe in {paths.root.parent}{hint}; {BUILD_FIX}"
        )
    for needed in (paths.kernel, paths.initrd, paths.host_key, paths.client_key):
        if not needed.is_file():
            raise SandboxUnavailable(
                f"the VM image at {paths.root} lacks {needed.name}; {BUILD_FIX}"
            )
    private_dir(paths.root, top=paths.root.parent)
    for entry in (*paths.root.iterdir(), *paths.states.glob("*")):
        tighten(entry)
    return paths


def read_manifest(image_dir: Path) -> dict:
    return json.loads((Path(image_dir) / "manifest.json").read_text())


def manifest_modules(image_dir: Path | None = None) -> frozenset[str]:
    """The Python modules the image really provides (each imported inside the guest at build)."""
    root = Path(image_dir) if image_dir is not None else locate_image().root
    return frozenset(read_manifest(root)["python_modules"])
