"""A year's extract that is misnamed or gone must not empty that year in silence.

A reviewer renamed ``ggd_gezondheidsmonitor_2023.csv`` to ``GGD_gezondheidsmonitor_2023.csv`` and
materialised raw/ggd_monitor for 2023: the run succeeded and raw.ggd_monitor had no 2023 rows left,
with only a warning that did not name the renamed file. File names now match in any case, and a load
that would leave a year without rows, because the files its rows came from are no longer in the
folder, is refused (nothing written) with the folder, the pattern and the files named almost so,
unless the year is withdrawn on purpose (``allow_empty_years``). Real files, real DuckDB, and the
asset in a real Dagster run. The extracts are the small synthetic Demostad (2019-2024).
"""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from data_contracts.contract import load_contracts
from data_contracts.pandera_schema import Scope
from pipelines.definitions import build_definitions
from pipelines.defs.partitions import all_years_tags
from pipelines.ingest import MissingExtractError, ingest_source
from pipelines.ingest.ingest import completeness_problems
from tests.pipeline.runs import settings_for

CONTRACTS = load_contracts()
YEARS = list(range(2019, 2025))
SCOPE = Scope(gemeenten=frozenset({"GM9999"}), first_year=YEARS[0], last_year=YEARS[-1])
GGD_2023 = "ggd_gezondheidsmonitor_2023.csv"
UNTIMED = "select * exclude (_loaded_at) from raw.{} order by all"


def test_file_names_match_in_any_case(extracts, tmp_path):
    """Upper-case names are read like the pattern's own case, also where the name gives the year (CBS)."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ingest_source(CONTRACTS["ggd_monitor"], extracts, con, SCOPE)
    ingest_source(CONTRACTS["cbs_kerncijfers"], extracts, con, SCOPE)
    before = {s: con.execute(f"select count(*), count(distinct {c.year_column}) from raw.{s}").fetchone()
              for s, c in CONTRACTS.items() if s in ("ggd_monitor", "cbs_kerncijfers")}
    (extracts / GGD_2023).rename(extracts / "GGD_Gezondheidsmonitor_2023.CSV")
    (extracts / "kerncijfers_wijken_en_buurten_2022.csv").rename(extracts / "KERNCIJFERS_WIJKEN_EN_BUURTEN_2022.csv")
    result = ingest_source(CONTRACTS["ggd_monitor"], extracts, con, SCOPE, years=[2023])
    assert result.year_totals(2023)[1] > 0 and "GGD_Gezondheidsmonitor_2023.CSV" in {f.file for f in result.files}
    ingest_source(CONTRACTS["cbs_kerncijfers"], extracts, con, SCOPE, years=[2022])
    for source, counts in before.items():
        assert con.execute(f"select count(*), count(distinct {CONTRACTS[source].year_column}) from raw.{source}").fetchone() == counts


@pytest.mark.parametrize("years", [[2023], None], ids=["year 2023", "every year"])
def test_a_year_whose_file_is_gone_is_not_emptied(extracts, tmp_path, years):
    contract = CONTRACTS["ggd_monitor"]
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ingest_source(contract, extracts, con, SCOPE)
    rows_2023 = con.execute("select count(*) from raw.ggd_monitor where jaar = 2023").fetchone()[0]
    assert rows_2023 > 0
    before = con.execute(UNTIMED.format("ggd_monitor")).fetchall()
    log_before = con.execute("select count(*) from meta.ingest_log").fetchone()
    (extracts / GGD_2023).rename(extracts / "ggd-gezondheidsmonitor_2023.csv")  # a hyphen: not ggd_*.csv

    with pytest.raises(MissingExtractError) as error:
        ingest_source(contract, extracts, con, SCOPE, years=years)
    message = str(error.value)
    assert message.startswith(f"{extracts}: has no rows of 2023 for source 'ggd_monitor': no file named 'ggd_*.csv'")
    assert f"({2023}: {rows_2023} rows from {GGD_2023})" in message
    assert "Not read, though named almost so: ggd-gezondheidsmonitor_2023.csv" in message
    assert error.value.years == (2023,)
    assert con.execute(UNTIMED.format("ggd_monitor")).fetchall() == before  # nothing written
    assert con.execute("select count(*) from meta.ingest_log").fetchone() == log_before

    # withdrawn on purpose: allowed, and the warning names the file that looks like it
    result = ingest_source(contract, extracts, con, SCOPE, years=years, allow_empty_years=[2023])
    assert con.execute("select count(*) from raw.ggd_monitor where jaar = 2023").fetchone() == (0,)
    (problem,) = completeness_problems(result, True, years or YEARS)
    assert problem.startswith("no rows at all for 2023: is that year's file missing?")
    assert problem.endswith("not read, though named almost so: ggd-gezondheidsmonitor_2023.csv)")


def test_a_year_that_never_had_rows_only_warns(extracts, tmp_path):
    """A first load (nothing to lose) and a file that still exists but no longer holds the year are not refused."""
    contract = CONTRACTS["ggd_monitor"]
    (extracts / GGD_2023).rename(extracts / "gezondheidsmonitor_2023_def.csv")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = ingest_source(contract, extracts, con, SCOPE)
    (problem,) = completeness_problems(result, True, YEARS)
    assert problem.endswith("not read, though named almost so: gezondheidsmonitor_2023_def.csv)")

    politie = CONTRACTS["politie_jeugdverdachten"]
    path = extracts / "politie_jeugdverdachten_demostad_2019-2024.csv"
    ingest_source(politie, extracts, con, SCOPE)
    path.write_text("".join(line for line in path.read_text("utf-8").splitlines(keepends=True) if not line.startswith("2023;")), "utf-8")
    ingest_source(politie, extracts, con, SCOPE, years=[2023])  # the file is there: a corrected export without 2023
    assert con.execute("select count(*) from raw.politie_jeugdverdachten where jaar = 2023").fetchone() == (0,)


def test_the_asset_refuses_to_empty_a_year_in_a_dagster_run(extracts, tmp_path):
    settings = settings_for(tmp_path / "data", FACTORENMODEL_EXTRACT_DIR=str(extracts), FACTORENMODEL_FIRST_YEAR="2019",
                            FACTORENMODEL_LAST_YEAR="2024")
    defs = build_definitions(settings)
    job = defs.resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.ephemeral()
    sources = [dg.AssetKey(["raw", "gebiedsindeling"]), dg.AssetKey(["raw", "ggd_monitor"])]
    assert job.execute_in_process(instance=instance, asset_selection=sources, tags=all_years_tags(settings)).success

    def count_2023():
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute("select count(*) from raw.ggd_monitor where jaar = 2023").fetchone()[0]

    rows_2023 = count_2023()
    (extracts / GGD_2023).rename(extracts / "ggd_gezondheidsmonitor_2023.csv.bak")
    ggd = [dg.AssetKey(["raw", "ggd_monitor"])]
    refused = job.execute_in_process(instance=instance, asset_selection=ggd, partition_key="2023", raise_on_error=False)
    assert not refused.success
    (failure,) = [e for e in refused.all_events if e.is_step_failure]
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith(f"Source 'ggd_monitor': the extract folder {extracts}: has no rows of 2023")
    assert "'ggd_*.csv'" in description and "named almost so: ggd_gezondheidsmonitor_2023.csv.bak" in description
    assert count_2023() == rows_2023

    allowed = job.execute_in_process(
        instance=instance, asset_selection=ggd, partition_key="2023",
        run_config={"ops": {"raw__ggd_monitor": {"config": {"allow_empty_years": [2023]}}}},
    )
    assert allowed.success and count_2023() == 0
