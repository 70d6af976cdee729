"""Building the guest image from Debian packages (`wm sandbox build-image`).

`build_image` downloads the recipe's packages (`sandbox/image/packages.txt`) and the cloud
kernel with `apt-get`, unpacks them with `dpkg-deb`, adds the recipe's init script, execution
daemon and fresh SSH keys, packs the root file system with `cpio`, then boots the new image once
under QEMU to import every module the recipe names, and records the ones that really work in
`manifest.json`. The finished folder is moved into place in one rename, so a half-built image is
never found. Images built from older recipes are deleted.

Everything is owner-only from the start (`sandbox.home`): the build folder is a fresh `mkdtemp`
(0700) beside the images, and every file of the image (the kernel, the initramfs that holds the
guest's SSH host private key, the client key, the manifest) is written 0600 through a `mkstemp`
file, never through a predictable name opened with plain `open()`.

Not covered here: what an image holds and finding it (image.py), booting VMs (qemu.py,
backend.py).
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sandbox.executor import SandboxUnavailable
from sandbox.home import private_dir, private_file, write_private
from sandbox.vm.image import (
    RECIPE_DIR,
    ImagePaths,
    image_dir_for_recipe,
    locate_image,
    recipe_hash,
)

log = logging.getLogger(__name__)

SANDBOX_UID = 1000


def load_recipe() -> dict:
    return json.loads((RECIPE_DIR / "recipe.json").read_text())


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SandboxUnavailable(
            f"image build step failed: {' '.join(cmd)} (exit {proc.returncode}): "
            f"{proc.stderr.strip()[-2000:]}"
        )
    return proc.stdout


def _require_tools() -> None:
    missing = [t for t in ("apt-get", "apt-cache", "dpkg-deb", "cpio") if not shutil.which(t)]
    if missing:
        raise SandboxUnavailable(
            f"building the VM image needs {', '.join(missing)}; run ops/install-sandbox.sh "
            "(Debian/Ubuntu hosts)"
        )


def _packages() -> list[str]:
    lines = (RECIPE_DIR / "packages.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _download(names: list[str], dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    # apt warns when it cannot drop privileges to _apt in a root-owned temp dir; harmless.
    _run(["apt-get", "download", *names], cwd=dest)
    return sorted(dest.glob("*.deb"))


def _kernel_package(meta: str) -> str:
    out = _run(["apt-cache", "depends", meta])
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends: linux-image-"):
            return line.split(":", 1)[1].strip()
    raise SandboxUnavailable(f"cannot resolve the kernel package behind {meta}; run apt-get update")


def _staged_tool(rootfs: Path, tool: str) -> list[str]:
    """Run a binary from the unpacked guest userland on the host, with the guest's libc."""
    libs = f"{rootfs}/lib/x86_64-linux-gnu:{rootfs}/usr/lib/x86_64-linux-gnu"
    loader = rootfs / "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    return [str(loader), "--library-path", libs, str(rootfs / tool)]


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _assemble_rootfs(work: Path, out: ImagePaths, recipe: dict) -> dict[str, str]:
    """Unpack packages into work/rootfs, add the recipe's files and keys. Returns versions."""
    rootfs = work / "rootfs"
    rootfs.mkdir()
    kernel_pkg = _kernel_package(recipe["kernel_package"])
    debs = _download([*_packages(), kernel_pkg], work / "debs")
    versions: dict[str, str] = {}
    kernel_tree = work / "kernel"
    for deb in debs:
        name, version = deb.name.split("_")[:2]
        versions[name] = version.replace("%3a", ":")
        _run(["dpkg-deb", "-x", str(deb), str(kernel_tree if name == kernel_pkg else rootfs)])

    kernels = sorted((kernel_tree / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise SandboxUnavailable(f"{kernel_pkg} holds no vmlinuz")
    with kernels[-1].open("rb") as source, private_file(out.kernel) as handle:
        shutil.copyfileobj(source, handle)
    module_root = next((kernel_tree / "lib/modules").iterdir())
    names = []
    for rel in recipe["kernel_modules"]:
        src = module_root / rel
        shutil.copyfile(src, _mkparent(rootfs / "lib/modules" / src.name))
        names.append(src.name)
    _write(rootfs / "etc/wm/modules", "\n".join(names) + "\n")
    _write(rootfs / "etc/wm/preload", "\n".join(recipe["preload_modules"]) + "\n")

    for pattern in recipe["drop_paths"]:
        for path in sorted(rootfs.glob(pattern), reverse=True):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    for link, target in recipe["symlinks"].items():
        where = rootfs / link
        if where.is_symlink() or where.exists():
            where.unlink()
        where.symlink_to(target)

    for folder in (
        "proc",
        "sys",
        "dev",
        "tmp",
        "run",
        "sbin",
        "usr/sbin",
        "root/.ssh",
        "etc/dropbear",
        "opt/wm",
    ):
        (rootfs / folder).mkdir(parents=True, exist_ok=True)
    (rootfs / "root").chmod(0o700)
    (rootfs / "root/.ssh").chmod(0o700)
    _write(
        rootfs / "etc/passwd",
        f"root:x:0:0:root:/root:/bin/sh\nsandbox:x:{SANDBOX_UID}:"
        f"{SANDBOX_UID}:sandbox:/tmp:/bin/false\n",
    )
    _write(rootfs / "etc/group", f"root:x:0:\nsandbox:x:{SANDBOX_UID}:\n")
    _write(
        rootfs / "etc/shadow", "root:*:19000:0:99999:7:::\nsandbox:*:19000:0:99999:7:::\n", 0o600
    )
    _write(rootfs / "etc/shells", "/bin/sh\n")
    _write(rootfs / "etc/hostname", "sandbox\n")
    _write(rootfs / "etc/hosts", "127.0.0.1 localhost sandbox\n")
    shutil.copyfile(RECIPE_DIR / "init", rootfs / "init")
    (rootfs / "init").chmod(0o755)
    shutil.copyfile(RECIPE_DIR / "guestd.py", rootfs / "opt/wm/guestd.py")
    (rootfs / "opt/wm").chmod(0o700)

    # Host key: made by the guest's own dropbearkey, so the format is what dropbear reads.
    host_key = rootfs / "etc/dropbear/host_key"
    printed = _run(
        [*_staged_tool(rootfs, "usr/bin/dropbearkey"), "-t", "ed25519", "-f", str(host_key)]
    )
    host_key.chmod(0o600)
    public = [ln for ln in printed.splitlines() if ln.startswith("ssh-ed25519 ")]
    if not public:
        raise SandboxUnavailable(f"dropbearkey printed no public key: {printed!r}")
    write_private(out.host_key, " ".join(public[0].split()[:2]) + "\n")

    import paramiko  # the vm extra; imported here so `wm --help` stays fast

    client = paramiko.ECDSAKey.generate(bits=256)
    pem = io.StringIO()
    client.write_private_key(pem)
    write_private(out.client_key, pem.getvalue())
    _write(
        rootfs / "root/.ssh/authorized_keys", f"{client.get_name()} {client.get_base64()}\n", 0o600
    )

    if sys.version_info[:2] == (3, 11):
        # Precompiled bytecode makes the cold boot's imports faster; the guest's Python is 3.11
        # too, and unchecked-hash pycs do not depend on file times.
        for tree in ("usr/lib/python3.11", "usr/lib/python3/dist-packages"):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "compileall",
                    "-q",
                    "-j",
                    "0",
                    "--invalidation-mode",
                    "unchecked-hash",
                    str(rootfs / tree),
                ],
                capture_output=True,
            )
    else:
        log.info("host Python is not 3.11: the guest compiles bytecode at first import")
    return versions


def _mkparent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _pack_cpio(rootfs: Path, dest: Path) -> None:
    """Pack `rootfs` into the initramfs `dest`, owner-only: it holds the SSH host private key."""
    listing = subprocess.run(["find", "."], cwd=rootfs, capture_output=True, check=True).stdout
    with private_file(dest) as handle:
        proc = subprocess.run(
            ["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0"],
            cwd=rootfs,
            input=listing,
            stdout=handle,
            stderr=subprocess.PIPE,
        )
        if proc.returncode != 0:
            raise SandboxUnavailable(f"cpio failed: {proc.stderr.decode(errors='replace')}")


VERIFY_CODE = """
import importlib, json, sys
ok, failed = [], {}
for name in NAMES:
    try:
        importlib.import_module(name)
        ok.append(name)
    except Exception as exc:
        failed[name] = repr(exc)
print(json.dumps({"ok": ok, "failed": failed, "python": sys.version.split()[0]}))
"""


def _verify_in_guest(paths: ImagePaths, names: list[str]) -> dict:
    """Boot the new image once and import every module inside it."""
    from sandbox.executor import Limits
    from sandbox.vm.backend import SandboxConfig, run_cold

    code = f"NAMES = {names!r}\n{VERIFY_CODE}"
    result = run_cold(
        paths, SandboxConfig(pool_size=1), code, Limits(wall_time_s=120, cpu_time_s=120)
    )
    if result.exit_code != 0:
        raise SandboxUnavailable(
            f"the new image failed its in-guest module check (exit {result.exit_code}): "
            f"{result.stderr[-2000:]}"
        )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report["accelerator"] = result.details.get("accelerator")
    report["boot_s"] = result.details.get("boot_s")
    return report


def build_image(base: Path | None = None, *, force: bool = False) -> ImagePaths:
    """Build the image for the current recipe (idempotent: reuses a finished one)."""
    target = image_dir_for_recipe(base)
    if not force:
        try:
            return locate_image(base)
        except SandboxUnavailable:
            pass
    _require_tools()
    started = time.monotonic()
    recipe = load_recipe()
    private_dir(target.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".build-{target.name}-", dir=target.parent))
    out = ImagePaths(staging / "image")
    try:
        private_dir(out.root)
        versions = _assemble_rootfs(staging, out, recipe)
        _pack_cpio(staging / "rootfs", out.initrd)
        report = _verify_in_guest(out, recipe["python_modules"])
        if report["failed"]:
            log.warning("modules missing from the image: %s", report["failed"])
        manifest = {
            "recipe_hash": recipe_hash(),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.monotonic() - started, 1),
            "python_modules": sorted(report["ok"]),
            "missing_modules": report["failed"],
            "guest_python": report["python"],
            "verified_with_accelerator": report["accelerator"],
            "cold_boot_s": report["boot_s"],
            "packages": versions,
            "kernel_bytes": out.kernel.stat().st_size,
            "initrd_bytes": out.initrd.stat().st_size,
        }
        write_private(out.manifest, json.dumps(manifest, indent=2) + "\n")
        if force and target.exists():
            shutil.rmtree(target)
        try:
            out.root.rename(target)
        except OSError:
            # Another build of the same recipe finished first; use it (same recipe, same image).
            if not (target / "manifest.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _prune_stale(target)
    return locate_image(base)


def _prune_stale(current: Path) -> None:
    """Delete images built from older recipes: they can never be used again (and are big)."""
    for other in current.parent.iterdir():
        if other.is_dir() and other != current and not other.name.startswith(".build-"):
            log.info("removing the stale image %s", other)
            shutil.rmtree(other, ignore_errors=True)
