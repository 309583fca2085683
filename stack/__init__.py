"""The full stack, natively (native.py) and in containers (docker-compose.yaml at the root)."""
