"""Everything only kind knows: its provider, network, docker shim, node image and downloads."""
