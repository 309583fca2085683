"""Personalize hooks in the Amazon provider's shape."""
