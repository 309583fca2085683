"""Service errors, each carrying the error code botocore maps to its modelled exception."""

from __future__ import annotations


class ServiceError(Exception):
    """An error answered to the client as ``{"__type": code, "message": message}``."""

    code = "InvalidInputException"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ServiceError):
    code = "InvalidInputException"


class ResourceNotFound(ServiceError):
    code = "ResourceNotFoundException"
    status = 404


class ResourceAlreadyExists(ServiceError):
    code = "ResourceAlreadyExistsException"


class ResourceInUse(ServiceError):
    code = "ResourceInUseException"


class LimitExceeded(ServiceError):
    code = "LimitExceededException"


class TooManyTags(ServiceError):
    code = "TooManyTagsException"


class InvalidNextToken(ServiceError):
    code = "InvalidNextTokenException"


class Throttling(ServiceError):
    code = "ThrottlingException"


class InternalFailure(ServiceError):
    code = "InternalFailure"
    status = 500


class UnknownOperation(ServiceError):
    code = "UnknownOperationException"


class SerializationError(ServiceError):
    code = "SerializationException"
