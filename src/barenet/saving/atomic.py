"""Atomic writes: a temporary file beside the target, flushed and fsynced, then renamed over it."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def atomic_write(path: Path, write) -> None:
    """Write via `write(binary_file)` to a temporary file beside `path`, fsync, then rename over it.

    A symlink at `path` is kept: its target is written (atomically) instead. Temporary files
    that a killed barenet process left beside the target are removed first.
    """
    path = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    directory = path.parent
    remove_stale_temporary_files(directory, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def remove_stale_temporary_files(directory: Path, name: str, suffix: str = ".tmp") -> list[Path]:
    """Remove `.{name}.{pid}-*{suffix}` files in `directory` whose process no longer runs.

    Such a file is what a process killed mid-write leaves behind (a live writer's file is
    kept). Where processes cannot be probed (not POSIX), files older than a day count as stale.
    Returns the paths removed; errors are ignored (cleanup must never fail a save).
    """
    removed = []
    prefix = f".{name}."
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(suffix)):
            continue
        pid = entry.name[len(prefix):].partition("-")[0]
        try:
            if not entry.is_file(follow_symlinks=False) or not _is_stale(pid, entry.stat().st_mtime):
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _is_stale(pid: str, mtime: float) -> bool:
    if os.name != "posix" or not pid.isdigit():
        return time.time() - mtime > 86400
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def _new_file_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform (Windows).
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

