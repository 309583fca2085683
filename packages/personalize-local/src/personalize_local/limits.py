"""The Amazon Personalize limits personalize-local enforces, each stated once.

Where botocore's service model carries a limit (an id's length, the events one PutEvents call takes) it is
read from there; the others are the quotas AWS documents for the service.
"""

from __future__ import annotations

import botocore.session

_EVENTS = botocore.session.get_session().get_service_model("personalize-events")

MAX_ID_LENGTH = int(_EVENTS.shape_for("ItemId").metadata["max"])
"""Longest USER_ID / ITEM_ID (256)."""
MAX_EVENTS_PER_CALL = int(_EVENTS.shape_for("EventList").metadata["max"])
"""Events one PutEvents call takes (10)."""

MIN_NUM_RESULTS = 1
MAX_NUM_RESULTS = 500
"""GetRecommendations' and batch inference's numResults range."""
DEFAULT_NUM_RESULTS = 25
MAX_RANKING_INPUT = 500
"""Items GetPersonalizedRanking's inputList holds at most."""

MIN_INTERACTIONS = 1000
MIN_USERS_WITH_TWO = 25
"""Training's floor: this many interactions, and this many users with at least 2 of them."""

MAX_TAGS = 50
MAX_DATASET_GROUPS = 500
MAX_FILTERS_PER_GROUP = 10
MAX_TRAININGS_PER_GROUP = 5
"""Solution versions of one dataset group training at once."""

DEFAULT_USERS_PER_SEGMENT = 25
"""A batch segment job's numResults when none is given (botocore's model states none; batch inference's)."""
MAX_USERS_PER_SEGMENT = 5_000_000
MAX_SEGMENT_QUERIES = {"aws-item-affinity": 500, "aws-item-attribute-affinity": 10}
"""Queries (lines) one batch segment input file holds at most, per recipe."""
MAX_RUNNING_SEGMENT_JOBS = 5
"""Batch segment jobs pending or in progress at once, per account."""
MAX_RECOMMENDERS_PER_GROUP = 15
"""Recommenders one dataset group holds at most."""
MAX_METADATA_COLUMNS = 10
"""Items columns one GetRecommendations' metadataColumns names at most."""
