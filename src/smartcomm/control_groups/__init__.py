"""The global control group: its settings, draws, uploads and the periodic redraw."""
