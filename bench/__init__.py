"""The smartcomm benchmark harness (`make bench`, or `python -m bench --help`)."""
