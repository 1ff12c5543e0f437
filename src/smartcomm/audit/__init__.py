"""The action history."""
