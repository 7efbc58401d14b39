"""Per-deployment configuration: one YAML file (``FACTORENMODEL_CONFIG``, default
``factorenmodel.yaml`` in the project folder) checked at start-up. See ``example.yaml`` here for
every key and ``pipelines/settings.py`` for how it merges with the environment."""

from pipelines.config.schema import (
    CBS_MODES,
    CBS_TABLES,
    CbsConfig,
    ConfigError,
    DeploymentConfig,
    load_config,
    parse_config,
)

__all__ = ["CBS_MODES", "CBS_TABLES", "CbsConfig", "ConfigError", "DeploymentConfig", "load_config", "parse_config"]
