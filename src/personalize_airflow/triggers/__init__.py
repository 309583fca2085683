"""Personalize triggers in the Amazon provider's shape."""
