"""The workshop's offline bundle: packing it (make prefetch) and loading it (make offline)."""
