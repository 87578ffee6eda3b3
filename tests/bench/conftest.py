"""The benchmark command's smoke test: marked `bench` (deselect with `-m "not bench"`)."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "bench: a smoke run of `python -m bench` on real dev servers (about a minute)"
    )
