"""Bookkeeping of data intake: the answers kept for idempotent API writes."""
