"""The one error a whole extract file can fail with."""

from __future__ import annotations

from pathlib import Path


class ExtractError(Exception):
    """A file cannot be read as its source at all. The message names the file and the problem."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class MissingExtractError(ExtractError):
    """A load would leave years that had rows with none, because the file(s) they came from are gone
    from the extract folder (renamed, misnamed, deleted). ``path`` is the folder; nothing is written."""

    def __init__(self, path: Path | str, problem: str, years: tuple[int, ...]):
        super().__init__(path, problem)
        self.years = years
