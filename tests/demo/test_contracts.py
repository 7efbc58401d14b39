"""Every generated extract conforms to its data contract: zero quarantined rows."""

from __future__ import annotations

import duckdb
import pytest

from data_contracts.contract import load_contracts
from data_contracts.pandera_schema import Scope
from pipelines.ingest import ingest_source
from pipelines.ingest.ingest import find_extract_files

SCOPE = Scope(gemeenten=frozenset({"GM9999"}), first_year=2000, last_year=2026)
SOURCES = sorted(load_contracts())


@pytest.mark.parametrize("source", SOURCES)
def test_ingest_quarantines_nothing(demo, source, tmp_path):
    contract = load_contracts()[source]
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        result = ingest_source(contract, demo.extract_dir, con, SCOPE, run_id="demo-test")
    finally:
        con.close()
    assert result.rows_quarantined == 0, result.quarantine_preview.to_string()
    assert result.accounted_for
    assert result.rows_loaded > 0
    for summary in result.files:
        assert summary.ignored_columns == ()
        assert summary.absent_optional_columns == ()
        assert demo.rows_per_file[demo.extract_dir / summary.file] == summary.rows_in


@pytest.mark.parametrize("source", SOURCES)
def test_header_is_exactly_the_contract_columns(demo, source):
    contract = load_contracts()[source]
    expected = ";".join(c.name for c in contract.file_columns)
    for path in find_extract_files(contract, demo.extract_dir):
        assert path.read_text(encoding="utf-8").split("\n", 1)[0] == expected


def test_every_file_belongs_to_one_source(demo):
    owners = {p: [s for s, c in load_contracts().items() if p in find_extract_files(c, demo.extract_dir)] for p in demo.rows_per_file}
    assert all(len(o) == 1 for o in owners.values()), owners


def test_small_config_also_conforms(tmp_path, small_config):
    from pipelines.demo.generator import generate_demo
    from pipelines.ingest import validate_source

    result = generate_demo(tmp_path, seed=11, config=small_config)
    for contract in load_contracts().values():
        _, quarantined, summary = validate_source(contract, find_extract_files(contract, result.extract_dir), SCOPE)
        assert len(quarantined) == 0, summary.quarantine_preview.to_string()
        assert summary.years == small_config.years or contract.name in ("ggd_monitor", "gebiedswijzigingen")
