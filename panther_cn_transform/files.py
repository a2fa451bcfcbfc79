"""Reading inputs with bounds, and writing outputs so that a reader never sees half a file.

Why a module of its own: every input (template, rule file, release object) and every
output (template, patch, report, release object) crosses the file system here, so the
guarantees of docs/limits.md hold in one place:

* inputs: only regular files (or standard input `-`) are read; the size limit is checked
  with `stat` before reading and again by a bounded read (a file may grow, a pipe has no
  size); a FIFO or a device is refused instead of blocking or reading forever;
* release assets are hashed and copied in chunks, never held whole in memory;
* outputs are all or nothing: each file is staged beside its target and renamed into
  place only when every output of the run has been staged; a new file gets the ordinary
  mode (0666 less the umask), an existing file keeps its mode, a link keeps pointing
  where it pointed, and a device or pipe (`/dev/stdout`, a FIFO) is written, never
  replaced; a regular file is replaced wherever it is (`/dev/shm/x.yaml` too).  A FIFO
  that no process reads fails after `FIFO_WAIT` seconds instead of blocking the run.
  `-` means standard output.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import OutputError, TransformError

CHUNK = 1024 * 1024
STDIO = "-"
#: seconds an output FIFO may wait for a process to read it (`transform -o fifo & cat fifo` starts both at once)
FIFO_WAIT = 10.0
ErrorType = Callable[..., TransformError]

_KINDS = {
    stat.S_ISDIR: "a directory",
    stat.S_ISFIFO: "a FIFO (named pipe)",
    stat.S_ISCHR: "a character device",
    stat.S_ISBLK: "a block device",
    stat.S_ISSOCK: "a socket",
}


def kind_of(mode: int) -> str:
    """What a file of this `st_mode` is, for messages ('a directory', 'a FIFO (named pipe)', ...)."""
    for test, name in _KINDS.items():
        if test(mode):
            return name
    return "not a regular file"


def describe_os_error(exc: OSError) -> str:
    """The reason of an OS error without the path (the caller names the file)."""
    return exc.strerror or str(exc)


def read_limited(
    path: str | Path,
    limit: int,
    *,
    error: ErrorType,
    name: str | None = None,
    what: str = "file",
    hint: str = " (raise it with --max-input-bytes)",
) -> bytes:
    """The bytes of the regular file `path` (or standard input for `-`), at most `limit` of them.

    Anything else (a directory, FIFO, device, socket), an unreadable file or one over the
    limit raises `error(message, file=name)`; nothing more than `limit + 1` bytes is ever
    read.
    """
    label = name or str(path)
    if str(path) == STDIO:
        return _read_stream(sys.stdin.buffer, limit, error=error, name=name or "<stdin>", hint=hint)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; cleared again for regular files.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise error(f"is a directory, not a {what}", file=label) from None
    except OSError as exc:
        raise error(f"cannot read: {describe_os_error(exc)}", file=label) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = kind_of(info.st_mode)
        suffix = f", not a {what}" if kind == "a directory" else ", not a regular file (only files and - for standard input are read)"
        raise error(f"is {kind}{suffix}", file=label)
    if info.st_size > limit:
        os.close(fd)
        raise error(f"file is {info.st_size:,} bytes, over the {limit:,}-byte input limit{hint}", file=label)
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb", buffering=0) as handle:
        return _read_stream(handle, limit, error=error, name=label, hint=hint)


def _read_stream(handle: BinaryIO, limit: int, *, error: ErrorType, name: str, hint: str) -> bytes:
    parts: list[bytes] = []
    size = 0
    try:
        while size <= limit:
            part = handle.read(min(CHUNK, limit + 1 - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
    except OSError as exc:
        raise error(f"cannot read: {describe_os_error(exc)}", file=name) from None
    if size > limit:
        raise error(f"input is over the {limit:,}-byte input limit{hint}", file=name)
    return b"".join(parts)


@dataclass(frozen=True)
class Digest:
    """SHA-256 and size of an object, computed in chunks."""

    sha256: str
    size: int


def open_regular(path: Path, *, error: ErrorType, name: str) -> BinaryIO:
    """`path` opened for reading, refused unless it is a regular file (never blocks on a FIFO)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise error(f"cannot read {path.name}: {describe_os_error(exc)}", file=name) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise error(f"{path.name} is {kind_of(info.st_mode)}, not a regular file", file=name)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def hash_file(path: Path, *, error: ErrorType, name: str) -> Digest:
    """SHA-256 and size of the regular file `path`, read in chunks."""
    return copy_file(path, None, error=error, name=name)


def copy_file(source: Path, target: Path | None, *, error: ErrorType, name: str) -> Digest:
    """Copy the regular file `source` to the new file `target` in chunks; its SHA-256 and size.

    With `target` None only hashes.  Memory stays at one chunk whatever the size.
    """
    digest = hashlib.sha256()
    size = 0
    with open_regular(source, error=error, name=name) as reader:
        writer = None
        try:
            if target is not None:
                writer = _create(target)
            while True:
                try:
                    chunk = reader.read(CHUNK)
                except OSError as exc:
                    raise error(f"cannot read {source.name}: {describe_os_error(exc)}", file=name) from None
                if not chunk:
                    break
                digest.update(chunk)
                size += len(chunk)
                if writer is not None:
                    _write_all(writer, chunk, target)
        finally:
            if writer is not None:
                os.close(writer)
    return Digest(digest.hexdigest(), size)


def write_new(target: Path, data: bytes) -> None:
    """Write `data` to the new file `target` (mode 0666 less the umask); errors are `OutputError`."""
    fd = _create(target)
    try:
        _write_all(fd, data, target)
    finally:
        os.close(fd)


def _create(target: Path) -> int:
    try:
        # O_EXCL never opens an existing name, a link included; O_NOFOLLOW says so again
        return os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        raise OutputError(f"cannot write: {describe_os_error(exc)}", file=str(target)) from None


def _write_all(fd: int, data: bytes, target: Path | str | None) -> None:
    view = memoryview(data)
    try:
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except OSError as exc:
        raise OutputError(f"cannot write: {describe_os_error(exc)}", file=str(target)) from None


# -- outputs --------------------------------------------------------------------------------


@dataclass
class _Staged:
    target: str  # as the user named it
    final: Path | None  # where the file is renamed to (None: written in place, a stream)
    temp: Path | None
    data: bytes | None = b""  # None once a stream was written


class Outputs:
    """Every output file of one run, written all or nothing.

    `add` records a target and its content; `write` stages every file beside its target
    (a missing folder, a permission problem or a full disk fails here, before anything is
    visible), then writes streams (`-`, devices, FIFOs), then renames the staged files into
    place.  On any error the staged files are removed and an `OutputError` names the target.

    A run that publishes something else too (release mode's out-dir) calls the steps
    itself: `stage` and `stream` before it publishes, so that a report that cannot be
    written stops the run while nothing is published yet, then `commit` (only renames in
    the targets' own folders are left), or `discard` when publishing failed.
    """

    def __init__(self, stdout: BinaryIO | None = None) -> None:
        self.stdout = stdout
        self.items: list[tuple[str, str, bytes]] = []  # (option, target, data)
        self._staged: list[_Staged] = []

    def add(self, option: str, target: str | Path, data: str | bytes) -> None:
        """Write `data` to `target` (`-` for standard output); `option` names it in errors.

        Text is written as UTF-8; a lone surrogate, which only a JSON template can hold (as
        the escape `\\udc80`), is written as that same escape, so that a patch or report
        quoting such a value is still valid UTF-8 and a JSON output parses back to the value.
        """
        payload = data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data
        self.items.append((option, str(target), payload))

    def write(self) -> None:
        """Stage, stream, then rename every output; nothing is left behind on error."""
        try:
            self.stage()
            self.stream()
            self.commit()
        finally:
            self.discard()

    def stage(self) -> None:
        """Write every file output into a temporary file beside its target (nothing visible yet)."""
        check_targets([(option, target) for option, target, _data in self.items])
        try:
            for _option, target, data in self.items[len(self._staged):]:
                self._staged.append(_stage(target, data))
        except BaseException:
            self.discard()
            raise

    def stream(self) -> None:
        """Write the outputs that are streams (`-`, devices, FIFOs), which cannot be staged."""
        for item in self._staged:
            if item.temp is None and item.final is None and item.data is not None:
                self._stream(item)
                item.data = None  # written: never twice

    def commit(self) -> None:
        """Rename the staged files into place."""
        for item in self._staged:
            if item.temp is not None and item.final is not None:
                try:
                    os.replace(item.temp, item.final)
                except OSError as exc:
                    raise OutputError(f"cannot write: {describe_os_error(exc)}", file=item.target) from None
                item.temp = None

    def discard(self) -> None:
        """Remove the staged files not yet renamed into place."""
        for item in self._staged:
            if item.temp is not None:
                _unlink_quietly(item.temp)
                item.temp = None

    def _stream(self, item: _Staged) -> None:
        assert item.data is not None
        if item.target == STDIO:
            if self.stdout is None and sys.stdout is None:  # started with standard output closed (`>&-`)
                raise OutputError("cannot write: standard output is closed", file="<stdout>")
            out = self.stdout or sys.stdout.buffer
            try:
                out.write(item.data)
                out.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise OutputError(f"cannot write: {describe_os_error(exc)}", file="<stdout>") from None
            return
        fd = _open_stream(item.target)
        try:
            _write_all(fd, item.data, item.target)
        finally:
            os.close(fd)


def _open_stream(target: str) -> int:
    """A device or FIFO opened for writing; a FIFO no process reads within `FIFO_WAIT` seconds is an `OutputError`.

    O_NONBLOCK: opening a FIFO without a reader fails at once (ENXIO) instead of blocking,
    so it can be retried until the bound; the descriptor is made blocking again to write.
    """
    end = time.monotonic() + FIFO_WAIT
    while True:
        try:
            fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise OutputError(f"cannot write: {describe_os_error(exc)}", file=target) from None
            if time.monotonic() >= end:
                raise OutputError(f"cannot write: no process read this FIFO within {FIFO_WAIT:g} s", file=target) from None
            time.sleep(0.05)
            continue
        os.set_blocking(fd, True)
        return fd


def check_targets(targets: list[tuple[str, str]]) -> None:
    """Refuse two outputs to one place (two `-`, or one file named twice), before any work is done."""
    seen: dict[str, str] = {}
    for option, target in targets:
        if target != STDIO and _is_special(target):
            continue  # /dev/null twice is fine
        key = STDIO if target == STDIO else os.path.realpath(target)
        if key in seen:
            where = "standard output" if key == STDIO else target
            raise OutputError(f"{seen[key]} and {option} both write to {where}; give them different targets", file="<command line>")
        seen[key] = option


def check_apart(
    outputs: Sequence[tuple[str, str]],
    *,
    inputs: Sequence[tuple[str, str]] = (),
    folders: Sequence[tuple[str, Path]] = (),
) -> None:
    """Refuse an output that would overwrite one of the run's inputs or land inside a folder it must not touch.

    `outputs` are (option, target as typed); `inputs` (what, path), e.g. ("the rule file",
    "my-rules.yml"); `folders` (what, folder), e.g. ("the source mirror", mirror).  A target
    is where its bytes would go (a link's target), an input is the same file by path or by
    inode (a hard link).  Standard output, devices and FIFOs are not files, and pass.
    """
    for option, target in outputs:
        if target == STDIO or _is_special(target):
            continue
        where = Path(os.path.realpath(target))
        for what, path in inputs:
            if path != STDIO and _same_file(where, path):
                raise OutputError(f"{option} would overwrite {what} {path}, an input of this run; write it elsewhere", file=target)
        for what, folder in folders:
            if where.is_relative_to(os.path.realpath(folder)):
                raise OutputError(f"{option} would write inside {what} {folder}; write it elsewhere", file=target)


def _same_file(where: Path, path: str) -> bool:
    if where == Path(os.path.realpath(path)):
        return True
    try:
        return os.path.samefile(where, path)
    except OSError:  # one of them does not exist (yet): not the same file
        return False


def check_writable(target: str) -> None:
    """Fail now, before any work, if `target` could not be written later (missing folder, a folder, no permission)."""
    if target == STDIO or _is_special(target):
        if target != STDIO and os.path.isdir(target):
            raise OutputError("is a directory", file=target)
        return
    staged = _stage(target, b"")
    if staged.temp is not None:
        _unlink_quietly(staged.temp)


def _is_special(target: str) -> bool:
    """Paths that name a stream or a device: written in place, never replaced by a rename.

    Decided by what the path is, not where: a regular file under /dev (`/dev/shm/x.yaml`)
    is replaced like any other.  A missing name directly in /dev or anywhere in /proc is
    a device that is not there, never a file to create.
    """
    try:
        info = os.stat(target)
    except OSError:
        absolute = os.path.abspath(target)
        return os.path.dirname(absolute) == "/dev" or absolute.startswith("/proc/")
    return not stat.S_ISREG(info.st_mode)


def _stage(target: str, data: bytes) -> _Staged:
    if target == STDIO or _is_special(target):
        if target != STDIO and os.path.isdir(target):
            raise OutputError("is a directory", file=target)
        return _Staged(target, None, None, data)
    final = Path(os.path.realpath(target))  # a link keeps pointing where it pointed
    _check_name_fits(final, target)
    if final.is_dir():
        raise OutputError("is a directory, not a file", file=target)
    mode = None
    try:
        mode = stat.S_IMODE(os.stat(final).st_mode)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise OutputError(f"cannot write: {describe_os_error(exc)}", file=target) from None
    folder = final.parent
    if not folder.is_dir():
        shown = str(folder) if os.path.islink(target) else (os.path.dirname(target) or ".")  # as typed, unless a link
        raise OutputError(f"cannot write: folder {shown!r} does not exist", file=target)
    temp = folder / f".{final.name}.{secrets.token_hex(4)}.tmp"
    try:
        write_new(temp, data)
        if mode is not None:
            os.chmod(temp, mode)  # an existing file keeps its mode
    except OutputError as exc:
        _unlink_quietly(temp)
        raise OutputError(exc.message, file=target) from None
    except OSError as exc:
        _unlink_quietly(temp)
        raise OutputError(f"cannot write: {describe_os_error(exc)}", file=target) from None
    return _Staged(target, final, temp, data)


def name_limit(path: Path) -> int:
    """The longest file name, in bytes, the file system that would hold `path` allows (255 when it cannot be asked).

    Why: staging files and folders add to the name the user gave (`.<name>.XXXXXXXX.tmp`,
    `.<name>.partial-XXXXXXXX`), so a name that fits may still leave no room for them.
    """
    with contextlib.suppress(OSError, ValueError, StopIteration):
        return os.pathconf(next(p for p in (path.parent, *path.parents) if p.is_dir()), "PC_NAME_MAX")
    return 255


def _check_name_fits(final: Path, target: str) -> None:
    """Refuse a file name too long for its staging file (`.<name>.XXXXXXXX.tmp` beside it) to be created."""
    limit = name_limit(final)
    longest = limit - len(".") - len(".12345678.tmp")
    size = len(os.fsencode(final.name))
    if size > longest:
        raise OutputError(f"cannot write: the file name is {size} bytes; at most {longest} fit (its staging file "
                          f".<name>.XXXXXXXX.tmp beside it must fit the file system's {limit}-byte name limit)", file=target)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):  # already gone, or its folder vanished: nothing to clean
        os.unlink(path)


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write one file atomically (see `Outputs`): the old file or the new one, never a mix."""
    outputs = Outputs()
    outputs.add("output", path, data)
    outputs.write()
