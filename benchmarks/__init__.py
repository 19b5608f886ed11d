"""zoo's benchmark suite: `python -m benchmarks --help`. See benchmarks/README.md."""
