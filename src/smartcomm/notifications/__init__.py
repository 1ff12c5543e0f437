"""In-product notifications to staff users (the bell in the top bar)."""
