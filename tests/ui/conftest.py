from tests.core.conftest import bucket, core_s3_endpoint, s3

__all__ = ["bucket", "core_s3_endpoint", "s3"]
