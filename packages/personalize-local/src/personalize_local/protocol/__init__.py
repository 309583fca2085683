"""Wire protocols: JSON 1.1 for the control plane, REST-JSON for runtime and events."""
