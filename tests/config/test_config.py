"""The deployment configuration file: every mistake fails with the key and the allowed values named,
precedence (environment over file over defaults), and `dagster definitions validate` failing on a
broken file before anything runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipelines.config import ConfigError, load_config
from pipelines.definitions import build_definitions
from pipelines.settings import PROJECT_DIR, load_settings

DAGSTER = Path(sys.executable).parent / "dagster"
FIXTURES = PROJECT_DIR / "tests" / "cbs" / "fixtures"


@pytest.fixture
def folders(tmp_path):
    for name in ("extracts", "landing"):
        (tmp_path / name).mkdir()
    return tmp_path


def write(folder: Path, doc) -> Path:
    path = folder / "factorenmodel.yaml"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc), "utf-8")
    return path


def valid(**changes) -> dict:
    doc = {
        "municipality": {"name": "Rotterdam", "gemeenten": ["GM0599"]},
        "years": {"first": 2019, "last": 2024},
        "paths": {"extract_dir": "extracts"},
        "landing": {"dir": "landing", "settle_seconds": 0},
        "disclosure": {"min_persons": 15},
        "alerts": {"webhook_url": "https://hooks.example.org/x"},
    }
    doc.update(changes)
    return doc


def test_valid_file_is_read_with_paths_relative_to_the_file(folders):
    cfg = load_config(write(folders, valid(sources=["gebiedsindeling", "cbs_kerncijfers"])))
    assert cfg.gemeenten == ("GM0599",) and cfg.first_year == 2019 and cfg.last_year == 2024
    assert cfg.extract_dir == folders / "extracts" and cfg.landing_dir == folders / "landing"
    assert cfg.sources == {"gebiedsindeling", "cbs_kerncijfers"} and cfg.min_persons == 15


def test_the_example_file_is_valid_apart_from_its_folders(tmp_path):
    text = (PROJECT_DIR / "pipelines" / "config" / "example.yaml").read_text("utf-8")
    text = text.replace("/srv/factorenmodel/", str(tmp_path) + "/")
    for name in ("extracts", "landing"):
        (tmp_path / name).mkdir()
    cfg = load_config(write(tmp_path, text))
    assert cfg.cbs.mode == "statline" and cfg.cbs.tables == ("kerncijfers", "jeugdzorg") and len(cfg.sources) == 7


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sources": ["gebiedsindeling", "cbs_kerncijfer"]},
         r"sources: unknown value 'cbs_kerncijfer'; allowed values: cbs_kerncijfers, duo_onderwijs, gebiedsindeling, "),
        ({"sources": ["cbs_kerncijfers"]}, r"sources: 'gebiedsindeling' cannot be switched off"),
        ({"municipality": {"gemeenten": ["GM599"]}},
         r"municipality\.gemeenten: 'GM599' is not a CBS gemeente code; allowed: 'GM' and four digits, e\.g\. GM0599"),
        ({"municipality": {"gemeenten": ["0599"]}}, r"municipality\.gemeenten: '0599' is not a CBS gemeente code"),
        ({"paths": {"extract_dir": "nowhere"}}, r"paths\.extract_dir: folder .*nowhere does not exist"),
        ({"landing": {"dir": "no_landing"}}, r"landing\.dir: folder .*no_landing does not exist"),
        ({"colour": "blue"}, r"colour: unknown key; allowed top-level keys: municipality, years, sources, paths, landing, "),
        ({"paths": {"extract_dir": "extracts", "extracts": "x"}},
         r"paths\.extracts: unknown key; allowed keys in paths: data_dir, warehouse, extract_dir"),
        ({"cbs": {"mode": "online"}}, r"cbs\.mode: 'online' is not a mode; allowed values: statline, replay, off"),
        ({"cbs": {"mode": "statline", "tables": ["wijken"]}},
         r"cbs\.tables: unknown value 'wijken'; allowed values: kerncijfers, jeugdzorg"),
        ({"cbs": {"mode": "replay"}}, r"cbs\.fixtures: is required with mode replay"),
        ({"cbs": {"mode": "statline"}, "sources": ["gebiedsindeling", "ggd_monitor"]},
         r"cbs\.mode: is 'statline' but source cbs_kerncijfers is not active"),
        ({"years": {"first": 2024, "last": 2019}}, r"years: last \(2019\) lies before first \(2024\)"),
        ({"years": {"first": "2019"}}, r"years\.first: must be a whole number between 1900 and 2100, got '2019'"),
        ({"disclosure": {"min_persons": 0}}, r"disclosure\.min_persons: must be a whole number between 1 and 1000"),
        ({"alerts": {"webhook_url": "hooks.example.org"}}, r"alerts\.webhook_url: must be an http\(s\) URL"),
    ],
)
def test_each_mistake_names_the_key_and_the_allowed_values(folders, change, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(folders, valid(**change)))


def test_malformed_yaml_and_missing_file_fail_clearly(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "municipality: [GM0599\n"))
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="the file must hold a mapping"):
        load_config(write(tmp_path, "- GM0599\n"))


def test_no_file_runs_the_demo():
    settings = load_settings({"FACTORENMODEL_CONFIG": ""})
    assert settings.is_demo and settings.gemeenten == {"GM9999"} and settings.config_path is None
    assert settings.min_persons is None and settings.dbt_vars == {"synthetic": True} and settings.landing_dir is None


def test_file_settings_and_environment_precedence(folders):
    path = write(folders, valid())
    settings = load_settings({"FACTORENMODEL_CONFIG": str(path)})
    assert not settings.is_demo and settings.gemeenten == {"GM0599"} and settings.extract_dir == folders / "extracts"
    assert settings.dbt_vars == {"min_persons": 15} and settings.alert_webhook_url == "https://hooks.example.org/x"
    assert settings.landing_dir == folders / "landing" and settings.config_path == path
    # an environment variable that is set wins over the file
    env = load_settings({
        "FACTORENMODEL_CONFIG": str(path), "FACTORENMODEL_GEMEENTEN": "GM0363", "FACTORENMODEL_MIN_PERSONS": "20",
        "FACTORENMODEL_ALERT_WEBHOOK_URL": "https://other.example.org/y", "FACTORENMODEL_LAST_YEAR": "2025",
    })
    assert env.gemeenten == {"GM0363"} and env.dbt_vars == {"min_persons": 20} and env.last_year == 2025
    assert env.alert_webhook_url == "https://other.example.org/y" and env.first_year == 2019


def test_landing_or_cbs_without_extract_folder_is_refused(folders):
    path = write(folders, {"landing": {"dir": "landing"}})
    with pytest.raises(ConfigError, match=r"landing\.dir: needs paths\.extract_dir"):
        load_settings({"FACTORENMODEL_CONFIG": str(path)})


def test_switched_off_source_has_no_ingestion_and_cbs_asset_appears(folders):
    path = write(folders, valid(
        sources=["cbs_kerncijfers", "gebiedsindeling", "gebiedswijzigingen", "ggd_monitor"],
        cbs={"mode": "replay", "tables": ["kerncijfers"], "years": [2023], "fixtures": str(FIXTURES)},
    ))
    defs = build_definitions(load_settings({"FACTORENMODEL_CONFIG": str(path), "FACTORENMODEL_DATA_DIR": str(folders / "data")}))
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert "cbs_statline_extracts" in keys and "demostad_extracts" not in keys
    police = graph.get(next(k for k in graph.get_all_asset_keys() if k.to_user_string() == "raw/politie_jeugdverdachten"))
    assert "SWITCHED OFF" in police.description and not police.check_keys  # no contract checks: nothing is ingested
    cbs_raw = next(k for k in graph.get_all_asset_keys() if k.to_user_string() == "raw/cbs_kerncijfers")
    # fed by the CBS asset; loaded after the area division, which its area codes are checked against
    assert {k.to_user_string() for k in graph.get(cbs_raw).parent_keys} == {"cbs_statline_extracts", "raw/gebiedsindeling"}
    assert [s.name for s in defs.sensors if s.name == "landing_folder_sensor"]


def _validate(env_extra: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "FACTORENMODEL_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path), **env_extra}
    return subprocess.run(
        [str(DAGSTER), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300,
    )


def test_dagster_definitions_validate_fails_on_a_broken_file_naming_the_key(folders):
    path = write(folders, valid(sources=["gebiedsindeling", "police"]))
    done = _validate({"FACTORENMODEL_CONFIG": str(path)}, folders)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "ConfigError" in out and "sources: unknown value 'police'; allowed values: cbs_kerncijfers" in out


def test_dagster_definitions_validate_passes_on_a_valid_file(folders):
    done = _validate({"FACTORENMODEL_CONFIG": str(write(folders, valid()))}, folders)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dbt_alone_gets_the_deployments_warehouse_and_variables(tmp_path, monkeypatch):
    """`make dbt-build` passes these to dbt (python -m pipelines.dbt_cli): a review found dbt alone
    building the demo warehouse while FACTORENMODEL_CONFIG pointed at another deployment."""
    import json
    import subprocess
    import sys

    extracts = tmp_path / "extracts"
    extracts.mkdir()
    config = tmp_path / "deployment.yaml"
    config.write_text(f"municipality: {{name: Rotterdam, gemeenten: [GM0599]}}\nyears: {{first: 2019, last: 2024}}\n"
                      f"paths: {{data_dir: {tmp_path / 'data'}, extract_dir: {extracts}}}\n"
                      "disclosure: {min_persons: 20}\n", "utf-8")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("FACTORENMODEL_")}
    env["FACTORENMODEL_CONFIG"] = str(config)

    def ask(what: str) -> str:
        done = subprocess.run([sys.executable, "-m", "pipelines.dbt_cli", what], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert ask("warehouse") == str(tmp_path / "data" / "warehouse.duckdb")
    assert json.loads(ask("vars")) == {"min_persons": 20}


def test_the_small_cell_threshold_from_the_environment_has_the_files_range():
    """FACTORENMODEL_MIN_PERSONS=0 switched the suppression off (every cell published, also of 1 or 2
    persons), where disclosure.min_persons: 0 in the file was refused."""
    from pipelines.settings import SettingsError

    for value in ("0", "1001"):
        with pytest.raises(SettingsError, match=rf"FACTORENMODEL_MIN_PERSONS={value}: must be a whole number between 1 and 1000"):
            load_settings({"FACTORENMODEL_CONFIG": "", "FACTORENMODEL_MIN_PERSONS": value})
    assert load_settings({"FACTORENMODEL_CONFIG": "", "FACTORENMODEL_MIN_PERSONS": "1"}).dbt_vars == {"min_persons": 1, "synthetic": True}


def test_cbs_mode_off_written_bare_as_the_readme_does(folders):
    """YAML reads a bare `off` as false; `cbs: {mode: off}` is what the README writes."""
    path = write(folders, "cbs:\n  mode: off\n")
    assert load_config(path).cbs.mode == "off" and not load_config(path).cbs.enabled


def test_a_municipality_without_an_extract_folder_is_refused(folders):
    """Without an extract folder the synthetic demo runs; with another gemeente configured every demo
    row would be quarantined as outside it, and the run would fail on an empty area division."""
    path = write(folders, {"municipality": {"gemeenten": ["GM0599"]}, "years": {"first": 2019, "last": 2024}})
    with pytest.raises(ConfigError, match=r"municipality\.gemeenten: GM0599 needs paths\.extract_dir"):
        load_settings({"FACTORENMODEL_CONFIG": str(path)})
    with pytest.raises(ConfigError, match=r"FACTORENMODEL_GEMEENTEN: GM0363 needs paths\.extract_dir"):
        load_settings({"FACTORENMODEL_CONFIG": "", "FACTORENMODEL_GEMEENTEN": "GM0363"})
    assert load_settings({"FACTORENMODEL_CONFIG": "", "FACTORENMODEL_GEMEENTEN": "GM9999"}).is_demo


def test_a_config_file_named_yml_is_refused_not_ignored(tmp_path):
    from pipelines.settings import SettingsError, config_file

    default = tmp_path / "factorenmodel.yaml"
    assert config_file({}, default) is None
    (tmp_path / "factorenmodel.yml").write_text("municipality: {name: X}\n", "utf-8")
    with pytest.raises(SettingsError, match=r"factorenmodel\.yml: the configuration file is read as factorenmodel\.yaml"):
        config_file({}, default)
    default.write_text("{}\n", "utf-8")
    assert config_file({}, default) == default
