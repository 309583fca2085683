"""Holdout evaluation: reading an export's holdout, batch input and output, metrics by hand."""

from __future__ import annotations

import json
import math

import pytest

from personalize_pipelines.evaluation import (
    EvaluationInputError,
    batch_input_lines,
    evaluate,
    parse_batch_output,
    read_batch_output,
    read_catalog,
    read_holdout,
    sample_users,
)
from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.publish import VersionWriter

PREFIX = "personalize/shop"
HEADER = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n"


def export(bucket, version="v1"):
    return UseCaseLayout(bucket=bucket, prefix=PREFIX).version(version)


def publish_version(s3, bucket, *, version="v1", holdout_parts, interactions="", items=None, commit=True):
    writer = VersionWriter(client=s3, bucket=bucket, use_case_prefix=PREFIX, version=version)
    writer.put_bytes("interactions/part-00000.csv", (HEADER + interactions).encode(), content_type="text/csv")
    if items is not None:
        writer.put_bytes(
            "items/part-00000.csv", ("ITEM_ID,CATEGORY\n" + items).encode(), content_type="text/csv"
        )
    for index, body in enumerate(holdout_parts):
        body = body if isinstance(body, bytes) else body.encode()
        writer.put_bytes(f"holdout/part-{index:05d}.csv", body, content_type="text/csv")
    if commit:
        writer.commit({"use_case": "shop"})


# --- metrics by hand -----------------------------------------------------------------------------

RELEVANT = {"u1": {"a", "b"}, "u2": {"c"}, "u3": {"d"}, "u5": set()}
RECOMMENDATIONS = {
    "u1": ["a", "x", "b", "y", "z"],  # hits at ranks 1 and 3
    "u2": ["x", "y", "c"],  # hit at rank 3
    # u3: no recommendations (scores 0, counted missing); u5 has nothing held out (not scored)
    "u4": ["w", "q"],  # not in the holdout: ignored, also for coverage
    "u5": ["d"],
}
CATALOG = {"a", "b", "c", "d", "x", "y", "z", "w"}


def test_metrics_match_a_hand_computation():
    result = evaluate(RECOMMENDATIONS, RELEVANT, catalog=CATALOG, k_values=(5,))

    ndcg_u1 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    ndcg_u2 = (1 / math.log2(4)) / 1
    assert result["ndcg_at_5"] == pytest.approx((ndcg_u1 + ndcg_u2 + 0) / 3)
    assert result["precision_at_5"] == pytest.approx((2 / 5 + 1 / 5 + 0) / 3)
    assert result["recall_at_5"] == pytest.approx((1 + 1 + 0) / 3)
    assert result["mrr_at_5"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert result["coverage"] == pytest.approx(6 / 8)  # a, x, b, y, z, c; not u4's w, not q
    assert result["users_evaluated"] == 3
    assert result["users_missing"] == 1


def test_every_cut_off_is_reported_and_smaller_k_sees_fewer_hits():
    result = evaluate(RECOMMENDATIONS, RELEVANT, catalog=CATALOG, k_values=(1, 5))
    assert result["precision_at_1"] == pytest.approx(1 / 3)  # only u1's first item is a hit
    assert result["recall_at_1"] == pytest.approx(0.5 / 3)
    assert result["coverage"] == pytest.approx(6 / 8)  # coverage uses the largest k
    assert {"ndcg_at_1", "ndcg_at_5", "mrr_at_1", "mrr_at_5"} <= result.keys()


def test_a_user_with_an_empty_list_counts_as_missing():
    result = evaluate({"u1": []}, {"u1": {"a"}}, catalog={"a"}, k_values=(5,))
    assert result["users_missing"] == 1
    assert result["ndcg_at_5"] == 0.0


# --- batch input -----------------------------------------------------------------------------------


def test_batch_input_is_one_json_line_per_user_sorted():
    lines = batch_input_lines(["u2", "u1", "u2"]).decode().splitlines()
    assert [json.loads(line) for line in lines] == [{"userId": "u1"}, {"userId": "u2"}]


def test_capped_sample_is_deterministic_and_seed_dependent():
    users = [f"u{i}" for i in range(1000)]
    first = batch_input_lines(users, max_users=50, seed=7)
    assert first == batch_input_lines(reversed(users), max_users=50, seed=7)
    assert first != batch_input_lines(users, max_users=50, seed=8)
    sampled = [json.loads(line)["userId"] for line in first.decode().splitlines()]
    assert len(sampled) == 50 and set(sampled) <= set(users)
    assert sampled == sample_users(users, max_users=50, seed=7)


def test_sample_refuses_a_non_positive_cap():
    with pytest.raises(ValueError, match="max_users"):
        sample_users(["u1"], max_users=0)


# --- batch output ----------------------------------------------------------------------------------


def _ok(user, items):
    return json.dumps(
        {
            "input": {"userId": user},
            "output": {"recommendedItems": items, "scores": [0.1] * len(items)},
            "error": None,
        }
    )


def test_batch_output_counts_every_line_that_does_not_count():
    lines = [
        _ok("u1", ["a", "b"]),
        json.dumps({"input": {"userId": "u2"}, "output": None, "error": "User not found"}),
        "{not json",
        json.dumps({"input": {"userId": "u3"}, "output": {"recommendedItems": "a"}, "error": None}),
        json.dumps({"input": {}, "output": {"recommendedItems": []}, "error": None}),
        _ok("stranger", ["a"]),
        _ok("u1", ["z"]),
        "",
        _ok("u4", []),
    ]
    out = parse_batch_output(lines, expected_users={"u1", "u2", "u3", "u4"})

    assert out.recommendations == {"u1": ["a", "b"], "u4": []}
    assert out.counts() == {
        "lines": 8,
        "users_recommended": 2,
        "error_lines": 1,
        "malformed_lines": 3,
        "unknown_users": 1,
        "duplicate_users": 1,
    }
    reasons = {p["line"]: p["reason"] for p in out.problems}
    assert reasons[2] == "error: User not found"
    assert reasons[3].startswith("not JSON")
    assert "recommendedItems" in reasons[4]
    assert "userId" in reasons[5]
    assert reasons[6] == "user was not in the batch input"


def test_without_expected_users_nobody_is_unknown_and_bytes_are_accepted():
    out = parse_batch_output([_ok("anyone", ["a"]).encode()])
    assert out.recommendations == {"anyone": ["a"]}
    assert out.unknown_users == 0


def test_batch_output_files_are_read_from_s3(s3, bucket):
    s3.put_object(
        Bucket=bucket, Key="batch/out/users.json.out", Body=(_ok("u1", ["a"]) + "\n" + "oops\n").encode()
    )
    s3.put_object(Bucket=bucket, Key="batch/out/more.json.out", Body=(_ok("u2", ["b"]) + "\n").encode())
    s3.put_object(Bucket=bucket, Key="batch/out/users.json", Body=b'{"userId": "u1"}\n')
    s3.put_object(Bucket=bucket, Key="batch/out/_SUCCESS.json", Body=b"not an output file")
    out = read_batch_output(s3, bucket=bucket, prefix="batch/out/", expected_users={"u1", "u2"})
    assert out.recommendations == {"u1": ["a"], "u2": ["b"]}
    assert out.malformed_lines == 1
    assert out.problems[0]["line"] == "batch/out/users.json.out:2"


def test_a_job_that_wrote_no_output_is_an_error_not_zero_users(s3, bucket):
    s3.put_object(Bucket=bucket, Key="batch/empty/users.json", Body=b'{"userId": "u1"}\n')
    with pytest.raises(EvaluationInputError, match=r"batch/empty/ holds no batch inference output"):
        read_batch_output(s3, bucket=bucket, prefix="batch/empty/")


# --- holdout from S3 ------------------------------------------------------------------------------


def test_holdout_parts_stream_into_relevant_items(s3, bucket):
    publish_version(
        s3,
        bucket,
        holdout_parts=[
            HEADER + 'u1,a,100,purchase\nu1,b,101,view\nu2,"c,with comma",102,purchase\n',
            HEADER + "u1,a,103,purchase\nu3,d,104,view\n",
        ],
    )
    holdout = read_holdout(s3, version=export(bucket))
    assert holdout.relevant == {"u1": {"a", "b"}, "u2": {"c,with comma"}, "u3": {"d"}}
    assert (holdout.rows, holdout.parts, holdout.rows_skipped_event_type) == (5, 2, 0)
    assert holdout.users == ["u1", "u2", "u3"]


def test_holdout_can_keep_only_some_event_types(s3, bucket):
    publish_version(s3, bucket, holdout_parts=[HEADER + "u1,a,100,purchase\nu1,b,101,View\nu3,d,104,view\n"])
    holdout = read_holdout(s3, version=export(bucket), event_types=["Purchase"])
    assert holdout.relevant == {"u1": {"a"}}
    assert holdout.rows_skipped_event_type == 2


def test_a_version_without_manifest_is_refused(s3, bucket):
    publish_version(s3, bucket, holdout_parts=[HEADER + "u1,a,1,view\n"], commit=False)
    with pytest.raises(EvaluationInputError, match=r"v1/manifest.json does not exist"):
        read_holdout(s3, version=export(bucket))


def test_a_holdout_without_the_needed_column_names_the_file(s3, bucket):
    publish_version(s3, bucket, holdout_parts=["USER_ID,ITEM_ID\nu1,a\n"])
    assert read_holdout(s3, version=export(bucket)).relevant == {"u1": {"a"}}
    with pytest.raises(
        EvaluationInputError, match=r"holdout/part-00000.csv: header .* lacks column\(s\) \['EVENT_TYPE'\]"
    ):
        read_holdout(s3, version=export(bucket), event_types=["view"])


def test_a_ragged_row_names_the_file_and_line(s3, bucket):
    publish_version(s3, bucket, holdout_parts=[HEADER + "u1,a,1,view\nu2,b,2\n"])
    with pytest.raises(EvaluationInputError, match=r"part-00000.csv line 3: 3 fields, the header has 4"):
        read_holdout(s3, version=export(bucket))


def test_a_part_that_is_not_utf8_names_the_file(s3, bucket):
    publish_version(
        s3,
        bucket,
        holdout_parts=[HEADER + "u1,a,1,view\n", (HEADER + "u2,caf\xe9,1,view\n").encode("latin-1")],
    )
    with pytest.raises(EvaluationInputError, match=r"part-00001.csv line \d+: not UTF-8 CSV"):
        read_holdout(s3, version=export(bucket))


def test_catalog_is_the_items_of_interactions_and_items_parts(s3, bucket):
    publish_version(
        s3,
        bucket,
        holdout_parts=[HEADER + "u1,held_out_only,1,view\n"],
        interactions="u1,a,1,view\nu2,b,2,view\nu2,a,3,view\n",
        items="c,shoes\na,hats\n",
    )
    assert read_catalog(s3, version=export(bucket)) == {"a", "b", "c"}
