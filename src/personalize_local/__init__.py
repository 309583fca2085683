"""personalize-local: an offline AWS endpoint for S3 and Amazon Personalize that really trains.

``personalize-local serve`` (see :mod:`personalize_local.cli`) or
:func:`personalize_local.testing.running_endpoint` start it; :mod:`personalize_local.server` routes
requests, :mod:`personalize_local.protocol` speaks the wire protocols, :mod:`personalize_local.models`
holds the service's state and behaviour, and :mod:`personalize_local.training` trains the models.
"""
