"""Shared file utilities: the one atomic write of text and bytes used across the package."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["TempFileError", "atomic_write_bytes", "atomic_write_text"]


class TempFileError(OSError):
    """The temporary file next to the target could not be created (the folder is not writable)."""


def _open_mode() -> int:
    """The mode ``open`` gives a new file: ``0o666`` less the process umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, fsync: bool = False) -> None:
    """Replace ``path`` by ``data`` in one step: never a half-written file under that name.

    The bytes go to a temporary file ``.<name>.<random>.tmp`` in the same folder (flushed to disk
    first when ``fsync``), which gets the mode ``open`` would give and is then ``os.replace``-d
    onto ``path``. On any failure, or an interrupt, the temporary file is removed and ``path`` is
    unchanged. A folder that does not accept the temporary file raises :class:`TempFileError`;
    later failures raise the original :class:`OSError`.
    """
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise TempFileError(exc.errno, exc.strerror, exc.filename) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, _open_mode())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str, *, fsync: bool = False) -> None:
    """:func:`atomic_write_bytes` of ``text`` as UTF-8, line ends written as given."""
    atomic_write_bytes(path, text.encode("utf-8"), fsync=fsync)


def file_stamp(path: str | os.PathLike[str]) -> int:
    """The file's modification time in ns, the key under which its parsed content is cached
    (-1 when it cannot be read: the loader then raises its own clear error)."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1
