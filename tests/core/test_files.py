"""Files written whole or not at all (explorer.core.files)."""

from __future__ import annotations

import os
import stat

from explorer.core.files import write_text


def test_files_written_whole_get_the_usual_mode(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    path = tmp_path / "out.csv"
    write_text(path, "x,y\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
