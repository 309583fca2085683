"""Personalize links in the Amazon provider's shape."""
