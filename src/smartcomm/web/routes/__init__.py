"""UI routes, one module per page group. Each route parses, authorises and calls a service."""
