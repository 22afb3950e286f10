"""Test set-up shared by every suite: Qt runs offscreen unless a display was asked for."""

import os

# Before any Qt import: the UI tests need no screen. OpenGL tests (marker "gl") set their own.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")
