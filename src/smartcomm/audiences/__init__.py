"""Target audiences: static customer lists filled by hand, from segments, over the API or from CSV files."""
