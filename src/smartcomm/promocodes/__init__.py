"""Promo codes: groups of single-use codes — added, generated, issued at render time, redeemed, blocked."""
