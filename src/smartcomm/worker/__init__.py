"""The background worker: the Huey instance with every job and the periodic schedule registered."""

from smartcomm.worker.registry import huey

__all__ = ["huey"]
