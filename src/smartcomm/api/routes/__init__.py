"""REST endpoints, one module per area. Each endpoint parses, authorises and calls a service."""
