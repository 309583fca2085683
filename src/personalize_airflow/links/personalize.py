"""Operator extra links to the Amazon Personalize console page of the resource a task made."""

from __future__ import annotations

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink

PERSONALIZE_CONSOLE = BASE_AWS_CONSOLE_LINK + "/personalize/home?region={region_name}#"


def console_route(arn: str) -> str:
    """The console's route for a resource: its ARN with the resource type separated by ``$``."""
    return arn.replace("/", "$", 1)


class _PersonalizeLink(BaseAwsLink):
    format_str = PERSONALIZE_CONSOLE + "{route}"


class PersonalizeDatasetGroupLink(_PersonalizeLink):
    """Link to an Amazon Personalize dataset group in the AWS console."""

    name = "Personalize Dataset Group"
    key = "personalize_dataset_group"
    format_str = PERSONALIZE_CONSOLE + "{route}/setup"


class PersonalizeSchemaLink(_PersonalizeLink):
    """Link to an Amazon Personalize schema in the AWS console."""

    name = "Personalize Schema"
    key = "personalize_schema"


class PersonalizeDatasetLink(_PersonalizeLink):
    """Link to an Amazon Personalize dataset in the AWS console."""

    name = "Personalize Dataset"
    key = "personalize_dataset"


class PersonalizeDatasetImportJobLink(_PersonalizeLink):
    """Link to an Amazon Personalize dataset import job in the AWS console."""

    name = "Personalize Dataset Import Job"
    key = "personalize_dataset_import_job"


class PersonalizeSolutionLink(_PersonalizeLink):
    """Link to an Amazon Personalize solution in the AWS console."""

    name = "Personalize Solution"
    key = "personalize_solution"


class PersonalizeSolutionVersionLink(_PersonalizeLink):
    """Link to an Amazon Personalize solution version in the AWS console."""

    name = "Personalize Solution Version"
    key = "personalize_solution_version"


class PersonalizeCampaignLink(_PersonalizeLink):
    """Link to an Amazon Personalize campaign in the AWS console."""

    name = "Personalize Campaign"
    key = "personalize_campaign"


class PersonalizeBatchInferenceJobLink(_PersonalizeLink):
    """Link to an Amazon Personalize batch inference job in the AWS console."""

    name = "Personalize Batch Inference Job"
    key = "personalize_batch_inference_job"


class PersonalizeBatchSegmentJobLink(_PersonalizeLink):
    """Link to an Amazon Personalize batch segment job in the AWS console."""

    name = "Personalize Batch Segment Job"
    key = "personalize_batch_segment_job"


class PersonalizeEventTrackerLink(_PersonalizeLink):
    """Link to an Amazon Personalize event tracker in the AWS console."""

    name = "Personalize Event Tracker"
    key = "personalize_event_tracker"


class PersonalizeFilterLink(_PersonalizeLink):
    """Link to an Amazon Personalize filter in the AWS console."""

    name = "Personalize Filter"
    key = "personalize_filter"


class PersonalizeRecommenderLink(_PersonalizeLink):
    """Link to an Amazon Personalize recommender in the AWS console."""

    name = "Personalize Recommender"
    key = "personalize_recommender"
