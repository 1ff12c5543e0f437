"""Viber through an HTTP aggregator (`aggregator.py`): text, one button with a link, an image."""
