"""The factor-model seeds load and pass their dbt tests; broken seeds make the right tests fail.

Real dbt runs into temporary DuckDB files (no mocks)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from .conftest import DBT_PROJECT, run_dbt, statuses


def test_seeds_load_and_all_dbt_tests_pass(tmp_path: Path) -> None:
    proc, results = run_dbt(DBT_PROJECT, tmp_path, "build", "--select", "resource_type:seed", "--indirect-selection", "cautious")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    st = statuses(results)
    seeds = [u for u in st if u.startswith("seed.")]
    tests = [u for u in st if u.startswith("test.")]
    assert len(seeds) >= 10, seeds
    assert len(tests) >= 100, len(tests)
    bad = {u: s for u, s in st.items() if s not in ("success", "pass")}
    assert not bad, bad


def test_dbt_parse_writes_manifest(tmp_path: Path) -> None:
    """dagster-dbt loads the project from the manifest that `dbt parse` writes."""
    proc, _ = run_dbt(DBT_PROJECT, tmp_path, "parse")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert (tmp_path / "target" / "manifest.json").exists()


def _append_row(path: Path, row: dict[str, str]) -> None:
    with path.open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    with path.open("a", newline="", encoding="utf-8") as f:
        csv.DictWriter(f, fieldnames=header, lineterminator="\n").writerow(row)


def _edit_first_weight(path: Path, placeholder: bool, edit) -> str:
    """Apply ``edit`` (row dict -> None) to the first literature row with that is_placeholder."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        rows = list(reader)
    row = next(r for r in rows if r["is_placeholder"] == str(placeholder).lower())
    edit(row)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return row["link_id"]


def _negate(row: dict[str, str]) -> None:
    row["effect_size_d"] = str(-float(row["effect_size_d"]))
    row["ci_lower_d"], row["ci_upper_d"] = str(-float(row["ci_upper_d"])), str(-float(row["ci_lower_d"]))


def _make_precise(row: dict[str, str]) -> None:
    d = float(row["effect_size_d"])
    row["se_d"], row["ci_lower_d"], row["ci_upper_d"] = "0.15", str(d - 0.294), str(d + 0.294)


def test_broken_seeds_fail_the_right_tests(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(
        DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml")
    )
    seeds = project / "seeds" / "factor_model"
    # 1. a cycle: werkloosheid -> armoede -> schulden -> werkloosheid
    _append_row(
        seeds / "factor_factor_links.csv",
        {
            "link_id": "schulden__werkloosheid",
            "from_factor_id": "schulden",
            "to_factor_id": "werkloosheid",
            "effect_direction": "increases",
            "description": "deliberately planted cycle",
        },
    )
    # 2. a link to a factor that does not exist
    _append_row(
        seeds / "factor_subgoal_links.csv",
        {
            "link_id": "onbekende_factor__gezond_mentaal",
            "factor_id": "onbekende_factor",
            "subgoal_id": "gezond_mentaal",
            "effect_direction": "worsens",
            "rationale": "deliberately unknown factor",
        },
    )
    # 3. a literature figure with the wrong sign for its link
    _edit_first_weight(seeds / "literature_weights.csv", placeholder=False, edit=_negate)
    # 4. a placeholder (an invented figure) made as precise as a study
    _edit_first_weight(seeds / "literature_weights.csv", placeholder=True, edit=_make_precise)

    proc, results = run_dbt(project, tmp_path / "run", "build", "--select", "resource_type:seed", "--indirect-selection", "cautious")
    assert proc.returncode != 0, "dbt build should fail on broken seeds"
    failed = {u for u, s in statuses(results).items() if s in ("fail", "error")}
    expected = {
        "assert_factor_factor_links_acyclic",
        "relationships_factor_subgoal_links_factor_id__factor_id__ref_factors_",
        "assert_every_link_has_literature_weight",
        "assert_literature_sign_matches_effect_direction",
        "assert_literature_placeholders_honest",
    }
    failed_names = {u.split(".")[2] for u in failed}
    assert expected <= failed_names, (expected - failed_names, failed_names)
    for name in expected:
        assert name in proc.stdout
    # and nothing else broke: the remaining tests still pass
    unexpected = failed_names - expected
    assert not unexpected, unexpected
