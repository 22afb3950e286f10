"""Files written whole or not at all: into a temporary file beside the target, then moved over
it (an atomic rename on the same file system), so a failure never leaves half a file."""

from __future__ import annotations

import contextlib
import os
import tempfile

__all__ = ["replacing", "write_text"]

# The process's umask, read once at import (reading it means setting it, which is not safe
# while other threads create files).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextlib.contextmanager
def replacing(path, suffix: str = ""):
    """Yield a temporary path beside ``path`` to write; on success it replaces ``path``, on any
    error it is removed and the error raised (``path`` untouched)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".partial-", suffix=suffix, dir=folder)
    os.close(fd)
    # mkstemp makes the file private (0600); a file the user saves gets the usual mode
    with contextlib.suppress(OSError):
        os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all."""
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
