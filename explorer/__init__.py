"""Calculus Explorer: see the calculus that machine learning runs on."""

__version__ = "0.1.0"
