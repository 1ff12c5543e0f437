"""smartcomm: communication automation for retail loyalty programmes."""

__version__ = "0.1.0"
