"""personalize-local: an offline AWS endpoint for S3 and Amazon Personalize that really trains.

Run it and point any AWS client at it with one variable::

    personalize-local serve --host 127.0.0.1 --port 4566 --state-dir .personalize-local
    export AWS_ENDPOINT_URL=http://127.0.0.1:4566   # or endpoint_url in an Airflow AWS connection's extra

Plain boto3 clients for ``s3``, ``sts``, ``iam``, ``ssm``, ``sns``, ``sqs`` (moto's server, mounted as
is, IAM with AWS's managed policies), ``personalize``, ``personalize-runtime`` and ``personalize-events``
then all work. Tests start one with
:func:`personalize_local.testing.running_endpoint`.

Layout: :mod:`personalize_local.server` routes on the SigV4 credential scope,
:mod:`personalize_local.protocol` speaks JSON 1.1 and REST-JSON against botocore's models (it imports
models, never the reverse), :mod:`personalize_local.models` holds the service's state and behaviour, and
:mod:`personalize_local.training` trains the models. Both models and training read the recipe catalogue
(:mod:`personalize_local.recipes`) and the service's limits (:mod:`personalize_local.limits`).
"""
