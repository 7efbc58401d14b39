"""Pluggable estimators: one module per model, found automatically.

A module in this package that defines ``NAME`` (a short identifier), ``DESCRIPTION`` (one
sentence) and ``make_estimator()`` (a fresh scikit-learn regressor) is a model. Adding one makes
a Dagster asset ``ml/model_<NAME>`` appear (pipelines/defs/ml) and adds its cross-validated error
to the model comparison table, beside the default. See models_ml/README.md, "Adding a model".
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


@dataclass(frozen=True)
class EstimatorSpec:
    name: str
    description: str
    make_estimator: Callable[[], object]
    module: str


class EstimatorError(ValueError):
    """A module in models_ml/estimators does not follow the interface; says which and what is missing."""


def _spec(module: ModuleType) -> EstimatorSpec:
    missing = [a for a in ("NAME", "DESCRIPTION", "make_estimator") if not hasattr(module, a)]
    if missing:
        raise EstimatorError(f"{module.__name__} must define {', '.join(missing)} (see models_ml/README.md)")
    if not NAME_PATTERN.fullmatch(module.NAME):
        raise EstimatorError(f"{module.__name__}: NAME {module.NAME!r} must match {NAME_PATTERN.pattern}")
    return EstimatorSpec(module.NAME, module.DESCRIPTION, module.make_estimator, module.__name__)


def discover(package: str = __name__) -> list[EstimatorSpec]:
    """Every estimator module of the package, sorted by name; names must be unique."""
    pkg = importlib.import_module(package)
    specs = [
        _spec(importlib.import_module(f"{package}.{info.name}"))
        for info in pkgutil.iter_modules(pkg.__path__)
        if not info.name.startswith("_")
    ]
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise EstimatorError(f"estimator NAME used twice: {', '.join(duplicates)}")
    return sorted(specs, key=lambda s: s.name)
