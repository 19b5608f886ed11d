"""Datamodules, one module per dataset; each registers itself by name."""
