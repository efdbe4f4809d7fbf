"""Rich consoles for the CLI, made on first use: `icp-mcp --help` and other commands that print nothing
through rich do not import it (~80 ms of a 0.3 s start)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


class LazyConsole:
    """Stands for `rich.console.Console(**options)`; the console is made by the first attribute used.
    Hand `.real` to rich itself (Progress, Live), which wants the console."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def real(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)
