"""Purchase receipts and their lines, and the per-customer aggregates they drive."""
