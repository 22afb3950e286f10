"""Qt user interface: the main window, its views (pyqtgraph) and panels (docks)."""
