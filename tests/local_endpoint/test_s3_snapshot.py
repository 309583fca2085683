"""S3 objects mirrored to disk and restored into moto, as after a restart."""

from __future__ import annotations

from personalize_local.s3_snapshot import S3Snapshot
from tests.local_endpoint.conftest import unique


def test_objects_survive_and_deletes_are_mirrored(clients, tmp_path):
    s3, bucket = clients.s3, unique("snapshot")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(
        Bucket=bucket, Key="keep/a.csv", Body=b"a,b\n1,2\n", ContentType="text/csv", Metadata={"version": "7"}
    )
    s3.put_object(Bucket=bucket, Key="drop.txt", Body=b"bye")
    snapshot = S3Snapshot(tmp_path)
    snapshot.sync()
    s3.delete_object(Bucket=bucket, Key="drop.txt")
    s3.put_object(
        Bucket=bucket, Key="keep/a.csv", Body=b"a,b\n3,4\n", ContentType="text/csv", Metadata={"version": "8"}
    )
    snapshot.sync()

    s3.delete_object(Bucket=bucket, Key="keep/a.csv")
    s3.delete_bucket(Bucket=bucket)  # what a restart does to moto's memory
    assert S3Snapshot(tmp_path).restore() >= 1

    restored = s3.get_object(Bucket=bucket, Key="keep/a.csv")
    assert restored["Body"].read() == b"a,b\n3,4\n"
    assert restored["ContentType"] == "text/csv" and restored["Metadata"] == {"version": "8"}
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep/a.csv"]
