"""Personalize waiters in the Amazon provider's shape."""
