"""o2c: an open-source Order-to-Cash platform."""

__version__ = "0.1.0"
