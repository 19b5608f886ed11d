"""Model architectures, one module per tutorial network; each registers itself by name."""
