"""Customer and system events, web events with sessions and visitors, and the identification merge."""
