"""Pantau: watches the link from a civil-registry office to the central data center."""

__version__ = "0.1.0"
