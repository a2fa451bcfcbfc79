"""The output folder of a release: checked, locked, staged beside it and swapped in whole.

Why this much care: `--out-dir` is replaced (with `--force`), so a wrong path deletes
data.  Rules, in the order they are checked:

* the out-dir must not be, contain or be inside the source mirror, and must not be the
  current folder or one that contains it (`--out-dir .` / `..` would replace the folder
  the caller works in); an existing file is refused;
* one run at a time per out-dir: an exclusive `flock` on `.<name>.lock` beside it is held
  from before the emptiness check until the new folder is in place (a second run fails
  at once, naming the lock);
* staging folders (`.<name>.partial-*`) left by interrupted runs are removed under that
  lock, and said so; a `.<name>.old-*` folder (the previous output, parked by a run that
  could not swap atomically and was killed before it finished) is removed only when the
  out-dir exists, and otherwise refused, naming it, because it is the last good output;
* the new folder is built in `.<name>.partial-<random>` and exchanged with the old one in
  one `renameat2(RENAME_EXCHANGE)` call, so there is no instant without a complete
  out-dir; where the kernel or file system lacks it, two renames are used and the gap is
  covered by the `.old-*` rule above.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import secrets
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

from ..errors import OutputError
from ..files import name_limit

Notice = Callable[[str], None]
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_NO_EXCHANGE = {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM}


def resolve_out_dir(out_dir: str | Path, source: Path) -> Path:
    """The absolute out-dir, or an `OutputError` when writing it would be unsafe.

    `source` is the resolved source mirror.
    """
    given = str(out_dir)
    try:
        target = Path(out_dir).resolve()
        cwd = Path.cwd().resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
        raise OutputError(f"cannot resolve the output folder: {exc}", file=given) from None
    if os.path.islink(out_dir):  # (False for a name too long: refused below)
        # the swap would replace the folder the link points to, wherever it is, while the link stays: never guess
        raise OutputError(f"the output folder is a link (to {os.readlink(out_dir)}); give the folder itself, or remove the link",
                          file=given)
    if target == source:
        raise OutputError("the output folder is the source mirror; choose a new folder", file=given)
    if target.is_relative_to(source):
        raise OutputError(f"the output folder is inside the source mirror {source}; choose a folder outside it", file=given)
    if source.is_relative_to(target):
        raise OutputError(f"the output folder contains the source mirror {source}; choose a folder outside it", file=given)
    if cwd.is_relative_to(target):
        raise OutputError("the output folder is the current folder or contains it; choose a new folder", file=given)
    if target.parent == target:
        raise OutputError("the output folder cannot be the file system root", file=given)
    _check_name_length(target, given)
    try:
        info = target.stat()
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputError(f"cannot use the output folder: {exc.strerror or exc}", file=given) from None
    if not stat.S_ISDIR(info.st_mode):
        raise OutputError("exists and is not a folder", file=given)
    return target


def _check_name_length(target: Path, given: str) -> None:
    """Refuse an out-dir name too long for its staging folder (`.<name>.partial-XXXXXXXX`) to be created beside it."""
    limit = name_limit(target)
    longest = limit - len(".") - len(".partial-") - 8
    size = len(os.fsencode(target.name))
    if size > longest:
        raise OutputError(f"the output folder's name is {size} bytes; at most {longest} fit (its staging folder "
                          f".<name>.partial-XXXXXXXX beside it must fit the file system's {limit}-byte name limit)", file=given)


def check_replaceable(target: Path, force: bool, given: str) -> None:
    """Refuse a non-empty out-dir unless `force`."""
    if target.is_dir() and not force and any(target.iterdir()):
        raise OutputError("output folder exists and is not empty (use --force to replace it)", file=given)


class OutDir:
    """An out-dir held for one run: locked, cleaned of stale staging, staged, swapped.

    Use as a context manager; `staging` is the folder to fill, `publish()` swaps it in.
    Leaving the block without `publish()` removes the staging folder and any parent
    folders this run created, and the lock file.
    """

    def __init__(self, target: Path, *, force: bool, given: str, notice: Notice | None = None) -> None:
        self.target = target
        self.force = force
        self.given = given
        self.notice = notice
        self.lock_path = target.parent / f".{target.name}.lock"
        self.created: list[Path] = []
        self.lock_fd: int | None = None
        self.staging: Path | None = None
        self.removed: list[str] = []

    def __enter__(self) -> Self:
        try:
            self._make_parents()
            self._lock()
            self._clean_stale()
            check_replaceable(self.target, self.force, self.given)
            self.staging = _make_folder(self.target.parent, f".{self.target.name}.partial-")
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._release()

    def publish(self) -> None:
        """Put the staging folder in place of the out-dir in one step; remove the old one."""
        staging = self.staging
        assert staging is not None, "publish() outside the with block"
        check_replaceable(self.target, self.force, self.given)  # under the lock: nobody else wrote it
        try:
            if self.target.is_dir():
                with contextlib.suppress(OSError):
                    os.chmod(staging, stat.S_IMODE(self.target.stat().st_mode))  # the out-dir keeps its mode
                if _exchange(staging, self.target):
                    shutil.rmtree(staging, ignore_errors=True)  # now the old output, under a staging name
                else:
                    parked = self.target.parent / f".{self.target.name}.old-{secrets.token_hex(4)}"
                    os.rename(self.target, parked)
                    os.rename(staging, self.target)
                    shutil.rmtree(parked, ignore_errors=True)
            else:
                os.rename(staging, self.target)
        except OSError as exc:
            raise OutputError(f"cannot put the new output in place: {exc.strerror or exc}", file=self.given) from None
        self.staging = None
        self.created = []

    def _make_parents(self) -> None:
        missing = [p for p in reversed(self.target.parents) if not p.exists()]
        for folder in missing:
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:
                raise OutputError(f"cannot create folder {folder}: {exc.strerror or exc}", file=self.given) from None
            self.created.append(folder)

    def _lock(self) -> None:
        """Take the out-dir's lock: flock, then check that the lock file is still the one on disk.

        A finished run removes its lock file while holding it; a run that opened the old
        file before that sees a different inode and retries, so removal is safe.
        """
        while True:
            try:  # O_NOFOLLOW: a link planted at the lock's name must not make us create or open a file elsewhere
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o666)
            except OSError as exc:
                if self.lock_path.is_symlink():
                    raise OutputError(f"the lock file {self.lock_path} is a symbolic link, not a lock this tool made; "
                                      "remove it if no other run is writing this output folder", file=self.given) from None
                raise OutputError(f"cannot create the lock file {self.lock_path}: {exc.strerror or exc}", file=self.given) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise OutputError(
                    f"another run is writing this output folder (lock {self.lock_path} is held); wait for it to finish",
                    file=self.given,
                ) from None
            try:
                on_disk = os.lstat(self.lock_path)
                same = (os.fstat(fd).st_ino, os.fstat(fd).st_dev) == (on_disk.st_ino, on_disk.st_dev)
            except FileNotFoundError:
                same = False
            if same:
                self.lock_fd = fd
                return
            os.close(fd)

    def _clean_stale(self) -> None:
        stale = self._siblings("partial")
        parked = self._siblings("old")
        if parked and not self.target.exists():
            raise OutputError(
                f"{parked[0]} holds the previous output of an interrupted run and the output folder is missing; "
                f"move it back to {self.target} or remove it",
                file=self.given,
            )
        for folder in stale + parked:
            shutil.rmtree(folder, ignore_errors=True)
            self.removed.append(folder.name)
        if self.removed and self.notice:
            self.notice(f"removed {len(self.removed)} staging folder(s) left by interrupted runs: {', '.join(self.removed)}")

    def _siblings(self, kind: str) -> list[Path]:
        """Folders `.<name>.<kind>-<suffix>` beside the out-dir, not links.

        Compared as plain text, never as a glob: an out-dir named `o*` must not take
        `.other.old-*` (another folder's last good output) for its own.
        """
        prefix = f".{self.target.name}.{kind}-"
        try:
            entries = list(os.scandir(self.target.parent))
        except OSError as exc:
            raise OutputError(f"cannot list {self.target.parent}: {exc.strerror or exc}", file=self.given) from None
        return sorted(Path(e.path) for e in entries
                      if e.name.startswith(prefix) and len(e.name) > len(prefix) and e.is_dir(follow_symlinks=False))

    def _release(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        if self.lock_fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.lock_path)  # while still holding it; see _lock
            os.close(self.lock_fd)
            self.lock_fd = None
        for folder in reversed(self.created):
            with contextlib.suppress(OSError):  # only if still empty
                folder.rmdir()
        self.created = []


def _make_folder(parent: Path, prefix: str) -> Path:
    """A new folder with a random suffix and the ordinary mode (0777 less the umask)."""
    while True:
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir(mode=0o777)
            return path
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot create a staging folder in {parent}: {exc.strerror or exc}", file=str(parent)) from None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2(RENAME_EXCHANGE); False where unsupported."""
    renameat2 = getattr(_libc(), "renameat2", None) if os.name == "posix" else None
    if renameat2 is None:
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _NO_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code))


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)
