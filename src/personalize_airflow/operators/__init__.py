"""Personalize operators in the Amazon provider's shape."""
