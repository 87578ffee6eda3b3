"""End-to-end tests: a real Temporal dev server, the worker in a subprocess, the CLI."""
