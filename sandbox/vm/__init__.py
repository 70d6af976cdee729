"""The QEMU VM sandbox: guest image, VM lifecycle, SSH runner, single-use pool, executor."""
