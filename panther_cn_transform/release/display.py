"""The progress displays of release mode and deploy on a terminal (rich).

Release mode: three bars (bytes downloaded, templates transformed, objects uploaded), silent
when stderr is not a terminal (CI, a pipe, a log file).  Deploy: the events of a stack
operation, one line each, with a spinner and the time elapsed below them on a terminal and
plain lines anywhere else (an operator reading a CI log needs the events too).  Everything
a display is told arrives through plain callbacks, so the library modules never import it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from .manifest import ReleaseObject
from .stack_events import StackEvent


class ReleaseDisplay:
    """Progress of one release run on `stream` (stderr), drawn only when it is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self._console = Console(file=stream)
        self._progress = Progress(
            TextColumn("{task.description:<10}"), BarColumn(), TextColumn("{task.fields[count]:>14}"),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(), console=self._console, disable=not self._console.is_terminal, transient=True,
        )
        self._download: TaskID | None = None
        self._transform: TaskID | None = None
        self._upload: TaskID | None = None
        self._received = 0

    @property
    def active(self) -> bool:
        """True when something is drawn (stderr is a terminal)."""
        return self._console.is_terminal

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self._progress.stop()

    def downloaded(self, size: int) -> None:
        """A chunk of `size` bytes arrived from the source bucket."""
        if self._download is None:
            self._download = self._progress.add_task("download", total=None, count="", detail="")
        self._received += size
        self._progress.update(self._download, count=f"{self._received / 1024:,.0f} KiB")

    def transformed(self, done: int, total: int, key: str) -> None:
        """Template `key` is transformed, the `done`-th of `total`."""
        if self._transform is None:
            self._transform = self._progress.add_task("transform", total=total, count="", detail="")
        self._progress.update(self._transform, completed=done, total=total, count=f"{done}/{total}", detail=key)

    def upload_started(self, total: int) -> None:
        """The upload of `total` objects begins."""
        self._upload = self._progress.add_task("upload", total=total, count=f"0/{total}", detail="")

    def uploaded(self, obj: ReleaseObject, sent: bool) -> None:
        """`obj` is in the target bucket (`sent`: uploaded now; else it was already there)."""
        if self._upload is not None:
            self._progress.advance(self._upload, 1)
            task = self._progress.tasks[self._upload]
            detail = obj.key if sent else f"{obj.key} (already there)"
            self._progress.update(self._upload, count=f"{task.completed:.0f}/{task.total:.0f}", detail=detail)


class StackProgress:
    """The events of one stack operation on `stream`: a line each, and on a terminal a spinner with the time elapsed."""

    def __init__(self, stream: TextIO, title: str) -> None:
        self._stream = stream
        self._title = title
        self._console = Console(file=stream, highlight=False)
        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                  console=self._console, disable=not self._console.is_terminal, transient=True)
        self._task: TaskID | None = None

    def __enter__(self) -> Self:
        self._progress.start()
        if self._console.is_terminal:
            self._task = self._progress.add_task(self._title)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self._progress.stop()

    def event(self, event: StackEvent) -> None:
        """A new event: its line, above the spinner on a terminal."""
        line = f"    {event.line()}"
        if self._task is None:
            print(line, file=self._stream, flush=True)
            return
        self._console.print(line, markup=False, highlight=False, soft_wrap=True)
        self._progress.update(self._task, description=f"{self._title}: {event.name} {event.status}")
