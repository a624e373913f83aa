"""The `vm` lab provider: nodes are QEMU virtual machines. `provider.py` makes labs,
`machines.py` runs one node (used by the `docker-machine` command too), `image.py` builds
the cached image, `qemu.py` starts QEMU. Kept import-free: the command imports `machines`."""
