"""Segment-spec compatible intake (identify, track, page, batch) authenticated by event-source write keys."""
