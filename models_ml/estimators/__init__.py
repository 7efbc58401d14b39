"""Pluggable estimators: one module per model, found automatically.

A module in this package that defines ``NAME`` (a short identifier), ``DESCRIPTION`` (one
sentence) and ``make_estimator()`` (a fresh scikit-learn regressor) is a model. Adding one makes
a Dagster asset ``ml/model_<NAME>`` appear (pipelines/defs/ml) and adds its cross-validated error
to the model comparison table, beside the default. Modules whose name starts with ``_`` are
skipped. A module that cannot be imported or breaks the interface stops the definitions from
loading with an ``EstimatorError`` that names its file and what is wrong. See models_ml/README.md,
"Adding a model".
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


@dataclass(frozen=True)
class EstimatorSpec:
    name: str
    description: str
    make_estimator: Callable[[], object]
    module: str
    path: str = ""  # the module's file, relative to the project when inside it


class EstimatorError(ValueError):
    """A module in models_ml/estimators does not follow the interface; says which and what is missing."""


HELP = "see models_ml/README.md, 'Adding a model'"


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _spec(module: ModuleType) -> EstimatorSpec:
    where = f"{module.__name__} ({_relative(module.__file__ or '')})"
    missing = [a for a in ("NAME", "DESCRIPTION", "make_estimator") if not hasattr(module, a)]
    if missing:
        raise EstimatorError(f"{where} must define {', '.join(missing)} ({HELP})")
    if not isinstance(module.NAME, str) or not NAME_PATTERN.fullmatch(module.NAME):
        raise EstimatorError(f"{where}: NAME {module.NAME!r} must be a string of 2-41 lower-case letters, digits "
                             f"and _, starting with a letter ({NAME_PATTERN.pattern}; {HELP})")
    if not isinstance(module.DESCRIPTION, str) or not module.DESCRIPTION.strip():
        raise EstimatorError(f"{where}: DESCRIPTION must be a sentence (a non-empty string; {HELP})")
    if not callable(module.make_estimator):
        raise EstimatorError(f"{where}: make_estimator must be a function that returns a new scikit-learn "
                             f"regressor, not {module.make_estimator!r} ({HELP})")
    return EstimatorSpec(module.NAME, module.DESCRIPTION, module.make_estimator, module.__name__,
                         _relative(module.__file__ or ""))


def _import(name: str, path: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - reported with the file that caused it
        raise EstimatorError(f"{name} ({_relative(path)}) could not be imported: {type(exc).__name__}: {exc} "
                             f"({HELP})") from exc


def discover(package: str = __name__) -> list[EstimatorSpec]:
    """Every estimator module of the package, sorted by name; names must be unique."""
    pkg = importlib.import_module(package)
    specs = [
        _spec(_import(f"{package}.{info.name}", str(Path(info.module_finder.path) / f"{info.name}.py")))
        for info in pkgutil.iter_modules(pkg.__path__)
        if not info.name.startswith("_")
    ]
    by_name: dict[str, list[str]] = {}
    for s in specs:
        by_name.setdefault(s.name, []).append(s.path)
    duplicates = {n: paths for n, paths in by_name.items() if len(paths) > 1}
    if duplicates:
        raise EstimatorError("estimator NAME used more than once: " + "; ".join(
            f"{n} in {' and '.join(paths)}" for n, paths in sorted(duplicates.items())))
    return sorted(specs, key=lambda s: s.name)
