"""Staff users, roles, permissions and authentication."""
