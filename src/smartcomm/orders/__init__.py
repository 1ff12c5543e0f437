"""Orders, the optional e-commerce module: orders with lines and three status dimensions, the status
dictionary, the REST API's rules, the CSV import and the reads behind the Orders pages."""
