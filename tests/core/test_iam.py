"""The IAM documents of a use case name its own bucket, prefix, resources and roles, and nothing wider."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from personalize_pipelines import iam
from personalize_pipelines.cli import load_project_use_case, main
from personalize_pipelines.config import RankingSpec, RelatedItemsSpec, SegmentsServingSpec
from personalize_pipelines.layout import UseCaseLayout
from personalize_pipelines.project import UnknownUseCaseError
from tests.conftest import EXAMPLE
from tests.policy_check import actions, allows

TRAINING_ROLE = "arn:aws:iam::111122223333:role/books-training"
SERVING_ROLE = "arn:aws:iam::111122223333:role/books-serving"
TOPIC = "arn:aws:sns:eu-west-1:111122223333:books-alerts"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's project with one use case, ``books``: the shop's settings in another bucket and prefix."""
    document = yaml.safe_load((EXAMPLE.config_dir / "shop.yaml").read_text())
    document["s3"].update(bucket="acme-recsys", prefix="ml/personalize")
    document["training"]["role_arn"] = TRAINING_ROLE
    document["serving"]["role_arn"] = SERVING_ROLE
    document["serving"]["cleanup"]["name_prefix"] = "books-run-"
    config = tmp_path / "include" / "config"
    config.mkdir(parents=True)
    (config / "books.yaml").write_text(yaml.safe_dump(document))
    shutil.copytree(EXAMPLE.sql_dir, tmp_path / "include" / "sql")
    return tmp_path


@pytest.fixture
def books(project):
    return load_project_use_case("books", project_dir=project)


def with_alerts(uc, **alerts):
    serving = uc.serving.model_copy(update={"alerts": uc.serving.alerts.model_copy(update=alerts)})
    return uc.model_copy(update={"serving": serving})


def test_the_workers_reach_only_the_use_case_folder_of_its_bucket(books):
    policy = iam.worker_policy(books)
    key = UseCaseLayout.for_use_case(books).version("2026-11-01T00-00-00").manifest
    assert key.startswith("ml/personalize/books/")
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert allows(policy, action=action, resource=f"arn:aws:s3:::acme-recsys/{key}")
        assert not allows(policy, action=action, resource="arn:aws:s3:::acme-recsys/ml/personalize/shop/x")
        assert not allows(policy, action=action, resource=f"arn:aws:s3:::personalize-demo/{key}")
    listing = {"s3:prefix": "ml/personalize/books/"}
    assert allows(policy, action="s3:ListBucket", resource="arn:aws:s3:::acme-recsys", context=listing)
    assert not allows(
        policy, action="s3:ListBucket", resource="arn:aws:s3:::acme-recsys", context={"s3:prefix": "ml/"}
    )
    assert not allows(policy, action="s3:ListBucket", resource="arn:aws:s3:::acme-recsys")


def test_personalize_resources_are_scoped_to_the_use_case_name(books):
    policy = iam.worker_policy(books)
    own = "arn:aws:personalize:eu-west-1:111122223333:dataset-group/books-run-0123456789ab"
    assert allows(policy, action="personalize:DescribeDatasetGroup", resource=own)
    assert not allows(
        policy,
        action="personalize:DescribeDatasetGroup",
        resource="arn:aws:personalize:eu-west-1:111122223333:dataset-group/shop-run-0123456789ab",
    )
    assert not allows(
        policy, action="personalize:DescribeDatasetGroup", resource=own.replace("books", "books_uk")
    )
    assert allows(
        policy,
        action="personalize:UpdateCampaign",
        resource="arn:aws:personalize:eu-west-1:111122223333:campaign/books",
    )
    solution_version = "arn:aws:personalize:eu-west-1:111122223333:solution/books-popular-0123/abcdef"
    assert allows(policy, action="personalize:DescribeSolutionVersion", resource=solution_version)
    assert allows(policy, action="personalize:ListDatasetGroups", resource="*")


def test_a_cleanup_name_prefix_of_its_own_is_scoped_too(books):
    cleanup = books.serving.cleanup.model_copy(update={"name_prefix": "legacy-"})
    uc = books.model_copy(update={"serving": books.serving.model_copy(update={"cleanup": cleanup})})
    policy = iam.worker_policy(uc)
    legacy = "arn:aws:personalize:eu-west-1:111122223333:campaign/legacy-books"
    assert allows(policy, action="personalize:DeleteCampaign", resource=legacy)
    assert not allows(policy, action="personalize:DeleteCampaign", resource=legacy.replace("legacy", "other"))


def with_related_items(uc, solution_arn):
    related = {"solution_arn": solution_arn, "items_sql": "shop/items.sql"}
    batch = uc.serving.batch.model_copy(update={"related_items": RelatedItemsSpec(**related)})
    return uc.model_copy(update={"serving": uc.serving.model_copy(update={"batch": batch})})


def test_every_action_is_named_no_wildcard(books):
    named = actions(iam.worker_policy(with_alerts(books, sns_topic_arn=TOPIC)))
    assert not [a for a in named if "*" in a or "?" in a]
    assert {a for a in named if a.startswith("personalize:")} == {
        f"personalize:{operation}"
        for operation in iam.PERSONALIZE_ACTIONS
        if operation not in iam.BATCH_SOLUTION_RECIPE_ACTIONS + iam.SEGMENT_ACTIONS
    }


def test_batch_segment_jobs_are_allowed_only_with_serving_segments_and_only_the_use_cases(books):
    spec = SegmentsServingSpec(recipe="aws-item-affinity", query="shop/segment_items.sql")
    policy = iam.worker_policy(
        books.model_copy(update={"serving": books.serving.model_copy(update={"segments": spec})})
    )
    own = "arn:aws:personalize:eu-west-1:111122223333:batch-segment-job/books-segments-0123456789ab"
    for action in ("personalize:CreateBatchSegmentJob", "personalize:DescribeBatchSegmentJob"):
        assert allows(policy, action=action, resource=own)
        assert not allows(policy, action=action, resource=own.replace("books", "shop"))
    assert allows(policy, action="personalize:ListBatchSegmentJobs", resource="*")
    assert not {a for a in actions(iam.worker_policy(books)) if "Segment" in a}


def test_a_related_items_solution_of_another_name_is_reachable_with_its_recipe(books):
    sims = "arn:aws:personalize:eu-west-1:111122223333:solution/catalog-similar"
    policy = iam.worker_policy(with_related_items(books, sims))
    assert allows(policy, action="personalize:DescribeSolution", resource=sims)
    assert not allows(policy, action="personalize:DeleteSolution", resource=sims)
    assert allows(
        policy, action="personalize:DescribeRecipe", resource="arn:aws:personalize:::recipe/aws-sims"
    )
    assert not allows(
        policy,
        action="personalize:DescribeSolution",
        resource=sims.replace("catalog-similar", "catalog-other"),
    )
    assert "personalize:DescribeRecipe" not in actions(iam.worker_policy(books))


def test_a_ranking_solution_of_another_name_is_reachable_beside_the_related_items_one(books):
    sims = "arn:aws:personalize:eu-west-1:111122223333:solution/catalog-similar"
    ranking = "arn:aws:personalize:eu-west-1:111122223333:solution/search-ranking"
    spec = RankingSpec(solution_arn=ranking, candidates_sql="shop/items.sql")
    uc = with_related_items(books, sims)
    batch = uc.serving.batch.model_copy(update={"ranking": spec})
    policy = iam.worker_policy(
        uc.model_copy(update={"serving": uc.serving.model_copy(update={"batch": batch})})
    )
    for solution in (sims, ranking):
        assert allows(policy, action="personalize:DescribeSolution", resource=solution)
        assert not allows(policy, action="personalize:DeleteSolution", resource=solution)
    assert allows(
        policy,
        action="personalize:DescribeRecipe",
        resource="arn:aws:personalize:::recipe/aws-personalized-ranking",
    )


def test_the_workers_pass_only_the_configured_roles_and_only_to_personalize(books):
    policy = iam.worker_policy(books)
    to_personalize = {"iam:PassedToService": iam.PERSONALIZE_PRINCIPAL}
    for role in (TRAINING_ROLE, SERVING_ROLE):
        assert allows(policy, action="iam:PassRole", resource=role, context=to_personalize)
        assert not allows(
            policy, action="iam:PassRole", resource=role, context={"iam:PassedToService": "ec2.amazonaws.com"}
        )
    assert not allows(
        policy,
        action="iam:PassRole",
        resource="arn:aws:iam::111122223333:role/admin",
        context=to_personalize,
    )


def test_sns_is_allowed_only_on_the_alert_topic_and_only_when_there_is_one(books):
    assert not [a for a in actions(iam.worker_policy(books)) if a.startswith("sns:")]
    policy = iam.worker_policy(with_alerts(books, sns_topic_arn=TOPIC))
    assert allows(policy, action="sns:Publish", resource=TOPIC)
    assert not allows(policy, action="sns:Publish", resource=TOPIC.replace("books-alerts", "other"))


def test_personalize_reads_the_use_case_folder_and_writes_only_batch_outputs(books):
    layout = UseCaseLayout.for_use_case(books)
    version = layout.version("2026-11-01T00-00-00")
    evaluation_output = version.evaluation("run-1").batch_output("popular") + "users.json.out"
    serving_output = layout.batch_run("run-1", "users").output + "users.json.out"
    experiment_output = layout.experiment("x1").batch_output("w03-capall", "popular") + "users.json.out"
    for document in (iam.service_role_policy(books), iam.bucket_policy(books)):
        data = f"arn:aws:s3:::acme-recsys/{version.key(version.part('interactions', 0))}"
        assert allows(document, action="s3:GetObject", resource=data)
        assert not allows(document, action="s3:PutObject", resource=data)
        for output in (evaluation_output, serving_output, experiment_output):
            assert allows(document, action="s3:PutObject", resource=f"arn:aws:s3:::acme-recsys/{output}")
        assert allows(
            document,
            action="s3:ListBucket",
            resource="arn:aws:s3:::acme-recsys",
            context={"s3:prefix": version.folder},
        )
    principals = {json.dumps(s["Principal"]) for s in iam.bucket_policy(books)["Statement"]}
    assert principals == {json.dumps({"Service": "personalize.amazonaws.com"})}


def test_only_personalize_of_the_roles_account_assumes_the_role(books):
    [statement] = iam.service_role_trust_policy(books)["Statement"]
    assert statement["Principal"] == {"Service": "personalize.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ["111122223333"]}}


def test_an_export_only_use_case_needs_s3_alone(books):
    export_only = books.model_copy(update={"training": None, "serving": None})
    documents = iam.policies(export_only)
    assert list(documents) == ["worker_policy"]
    assert {a.split(":")[0] for a in actions(documents["worker_policy"])} == {"s3"}


def test_the_cli_prints_every_document_of_a_project_use_case(project, capsys):
    assert main(["iam-policy", "books", "--project-dir", str(project)]) == 0
    printed = json.loads(capsys.readouterr().out)
    books = load_project_use_case("books", project_dir=project)
    assert printed == iam.policies(books)
    assert main(["iam-policy", "books", "--project-dir", str(project), "--document", "worker_policy"]) == 0
    assert json.loads(capsys.readouterr().out) == iam.worker_policy(books)


def test_the_cli_names_the_use_cases_there_are_when_one_is_unknown(project, capsys):
    assert main(["iam-policy", "movies", "--project-dir", str(project)]) == 2
    error = capsys.readouterr().err
    assert "no use case 'movies'" in error
    assert "use cases in" in error and "books" in error
    with pytest.raises(UnknownUseCaseError):
        load_project_use_case("movies", project_dir=project)


def test_in_unload_mode_the_warehouse_role_writes_only_the_versions_parts(books):
    assert "warehouse_unload_policy" not in iam.policies(books)
    unloading = books.model_copy(update={"export": books.export.model_copy(update={"unload_above_rows": 10})})
    policy = iam.policies(unloading)["warehouse_unload_policy"]
    objects = "arn:aws:s3:::acme-recsys/ml/personalize/books"
    assert allows(policy, action="s3:PutObject", resource=f"{objects}/v7/interactions/part-0000_part_00.csv")
    assert allows(policy, action="s3:PutObject", resource=f"{objects}/v7/users/part_0_0_0.csv")
    for key in ("v7/manifest.json", "latest.json", "registry/champion.json", "v7/schemas/items.json"):
        assert not allows(policy, action="s3:PutObject", resource=f"{objects}/{key}"), key
    assert not allows(
        policy, action="s3:GetObject", resource=f"{objects}/v7/interactions/part-0000_part_00.csv"
    )
    assert allows(
        policy,
        action="s3:ListBucket",
        resource="arn:aws:s3:::acme-recsys",
        context={"s3:prefix": "ml/personalize/books/v7/"},
    )


def test_a_use_case_with_recommenders_may_switch_and_ask_only_its_own(books):
    movies = EXAMPLE.use_case("movies")
    policy = iam.worker_policy(movies)
    own = "arn:aws:personalize:us-east-1:123456789012:recommender/movies-top-picks-0123456789ab"
    for action in ("CreateRecommender", "UpdateRecommender", "StopRecommender", "StartRecommender"):
        assert allows(policy, action=f"personalize:{action}", resource=own)
        assert not allows(policy, action=f"personalize:{action}", resource=own.replace("movies", "shop"))
    assert allows(policy, action="personalize:GetRecommendations", resource=own)
    assert allows(policy, action="personalize:ListRecommenders", resource="*")
    shop = iam.worker_policy(books)
    assert not [a for a in actions(shop) if "Recommender" in a]
    assert not allows(
        shop,
        action="personalize:GetRecommendations",
        resource="arn:aws:personalize:eu-west-1:111122223333:recommender/books-top-picks",
    )
