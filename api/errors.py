"""Domain errors of the product surface: every bad input becomes a list of located problems."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is (file:line, key path, option) and what was
    expected."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class InputError(Exception):
    """Bad input; carries every problem found (not just the first)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, where: str, message: str) -> InputError:
        return cls([Problem(where, message)])


class NotFoundError(Exception):
    """A resource (scenario, revision, job, leave record, file) that does not exist."""

    def __init__(self, what: str, ident: object) -> None:
        self.what = what
        self.ident = ident
        super().__init__(f"no {what} {ident!r}")


class ConflictError(Exception):
    """The request is valid but the resource is not in a state that allows it (a solve that is
    still running, a roster that a failed solve does not have ...)."""


class QueueFullError(Exception):
    """Too many solves are waiting; the client should try again later."""

    def __init__(self, message: str, retry_after_s: int = 30) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message)


class AuthenticationError(Exception):
    """No API key, or one the service does not know."""


class PermissionDeniedError(Exception):
    """A known API key whose roles do not allow the operation."""
