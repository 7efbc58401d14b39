"""Generate Demostad once per test session (default and small config) into pytest tmp folders."""

from __future__ import annotations

import pytest

from pipelines.demo.generator import DemoConfig, generate_demo

SEED = 20150101


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The default Demostad (12 wijken, ~80 buurten, 2015-2024)."""
    return generate_demo(tmp_path_factory.mktemp("demo_default"), seed=SEED)


@pytest.fixture(scope="session")
def small_config():
    return DemoConfig.small()
