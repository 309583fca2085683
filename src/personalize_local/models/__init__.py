"""State and behaviour of the local Personalize service, apart from any wire protocol.

pandas and pyarrow are imported inside the functions that use them, so ``personalize-local serve``
starts without paying for them.
"""
