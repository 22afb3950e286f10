"""Figures out of the app: a pyqtgraph view to PNG or SVG with pyqtgraph's exporters, written
to a temporary file beside the target and moved into place, so a failed export leaves no half
file."""

from __future__ import annotations

import os

from PySide6 import QtWidgets

from ..core.files import replacing

FORMATS = {".png": "PNG image (*.png)", ".svg": "SVG drawing (*.svg)"}


def export_view(item, path, scale: float = 1.0) -> None:
    """Write ``item`` (a PlotItem, a GraphicsScene or a pyqtgraph widget) to ``path``; the
    suffix chooses PNG or SVG. Raises ValueError for another suffix, OSError when the file
    cannot be written."""
    import pyqtgraph.exporters as exporters

    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot export to {suffix or 'a file without a suffix'}: "
                         f"choose {', '.join(FORMATS)}")
    if hasattr(item, "getPlotItem"):  # a PlotWidget: its plot, axes and colour bar
        item = item.getPlotItem()
    elif isinstance(item, QtWidgets.QGraphicsView):  # several plots in one widget
        item = item.scene()
    with replacing(path, suffix) as tmp:
        if suffix == ".png":
            exporter = exporters.ImageExporter(item)
            width = exporter.parameters()["width"]
            exporter.parameters()["width"] = int(round(width * scale))
            exporter.export(tmp)
        else:
            exporters.SVGExporter(item).export(tmp)
        if os.path.getsize(tmp) == 0:
            raise OSError(f"nothing was written to {path}")
