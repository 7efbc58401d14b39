"""What loads without an error but is probably incomplete is reported: a renamed column (the
contract's optional column absent, an unknown one present) and a year without any file. A
newcomer's review renamed `percentage` and deleted a year's CBS file: both loaded in silence."""

from __future__ import annotations


import duckdb
import pytest

from data_contracts.contract import load_contracts
from data_contracts.pandera_schema import Scope
from pipelines.ingest import ingest_source
from pipelines.ingest.ingest import completeness_problems

CONTRACTS = load_contracts()
YEARS = list(range(2019, 2025))
SCOPE = Scope(gemeenten=frozenset({"GM9999"}), first_year=YEARS[0], last_year=YEARS[-1])


def _problems(source: str, extracts, tmp_path) -> list[str]:
    contract = CONTRACTS[source]
    with duckdb.connect(str(tmp_path / f"{source}.duckdb")) as con:
        result = ingest_source(contract, extracts, con, SCOPE)
    return completeness_problems(result, contract.file_format.every_year, YEARS)


@pytest.mark.parametrize("source", sorted(CONTRACTS))
def test_complete_extracts_report_nothing(source, extracts, tmp_path):
    """Also gebiedswijzigingen, which has rows only in the years with changes (everyYear: false)."""
    assert _problems(source, extracts, tmp_path) == []


def test_a_renamed_column_is_reported_with_both_names(extracts, tmp_path):
    path = extracts / "ggd_gezondheidsmonitor_2023.csv"
    header, rest = path.read_text("utf-8").split("\n", 1)
    assert ";percentage;" in header
    path.write_text(header.replace(";percentage;", ";waarde;") + "\n" + rest, "utf-8")
    (problem,) = _problems("ggd_monitor", extracts, tmp_path)
    assert problem.startswith("ggd_gezondheidsmonitor_2023.csv: contract column(s) percentage absent while column(s) "
                              "waarde are not in the contract: renamed?")


def test_a_missing_years_file_is_reported(extracts, tmp_path):
    (extracts / "kerncijfers_wijken_en_buurten_2022.csv").unlink()
    (problem,) = _problems("cbs_kerncijfers", extracts, tmp_path)
    assert problem.startswith("no rows at all for 2022: is that year's file missing?")
