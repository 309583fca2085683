"""Personalize sensors in the Amazon provider's shape."""
