"""The two errors a command ends with: the API said no (ApiError), or the command itself refuses
(CommandError); each maps to an exit code (exit_codes). Light on purpose: cli.py catches both
before anything that talks to the API is imported."""

from __future__ import annotations


class ApiError(RuntimeError):
    """The API answered with an error (exit code 2), or the object is missing (exit code 4)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


class CommandError(Exception):
    """A failure to report on stderr with an exit code (see exit_codes)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code
