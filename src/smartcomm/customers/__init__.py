"""Customers: profiles, contacts, consent, subscriptions, push tokens."""
