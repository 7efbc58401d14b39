"""The small synthetic Demostad (2019-2024) that the ingestion tests load, and a private copy of
its extract folder per test (tests edit or delete files in it)."""

from __future__ import annotations

import shutil

import pytest

from pipelines.demo.generator import DemoConfig, generate_demo


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    return generate_demo(tmp_path_factory.mktemp("small_demo"), config=DemoConfig.small())


@pytest.fixture
def extracts(small_demo, tmp_path):
    folder = tmp_path / "extracts"
    shutil.copytree(small_demo.extract_dir, folder)
    return folder
