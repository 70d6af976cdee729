"""The QEMU VM sandbox: guest image (finding it, building it), VM lifecycle, SSH runner,
single-use pool, executor."""
