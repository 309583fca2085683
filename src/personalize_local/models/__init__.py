"""State and behaviour of the local Personalize service, apart from any wire protocol."""
