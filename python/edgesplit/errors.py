"""The exceptions of edgesplit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List


class EdgesplitError(Exception):
    """A request edgesplit cannot carry out (the message says why)."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input: the file, the field path inside it
    (``tasks[3].quality.curve[2]``; empty for the file as a whole) and what
    was found and expected."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        if self.path:
            return f"{self.file}: {self.path}: {self.message}"
        return f"{self.file}: {self.message}"


class ValidationError(EdgesplitError, ValueError):
    """An invalid instance or plan, with every problem found (not only the
    first), each with its field path."""

    problems: List[Problem]

    def __init__(self, message: str, problems: Iterable[Dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.problems = [p if isinstance(p, Problem) else Problem(**p) for p in problems]

    @property
    def paths(self) -> List[str]:
        """The field paths of the problems, in the order found."""
        return [p.path for p in self.problems]
