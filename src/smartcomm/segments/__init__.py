"""Segments: rule trees over a registry of metrics, compiled to one SQL statement, materialised."""
