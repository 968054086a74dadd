"""Backprop Lab: a desktop simulator that makes backpropagation visible."""

__version__ = "0.1.0"
