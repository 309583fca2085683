"""State and behaviour of the local Personalize service, apart from any wire protocol.

:class:`~personalize_local.models.backend.PersonalizeBackend` (the control plane) composes the rest over
one :class:`~personalize_local.models.state.ServiceState`: the model registry (``registry``), runtime,
events, batch inference (``batch``) and training jobs (``training_job``) receive that state, and the
registry where they serve models, never the backend. Batch segment jobs (``segments``) are a mixin of
the backend; Trending-Now campaigns read the interactions through ``trending``.

pandas and pyarrow are imported inside the functions that use them, so ``personalize-local serve``
starts without paying for them.
"""
