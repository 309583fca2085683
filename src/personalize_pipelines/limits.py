"""Amazon Personalize's own limits, as its documentation and service model state them.

The pipelines read them from here: the cleaning rules, the config's bounds, the cache's columns and the
event stream's batching all follow the service, not a number of their own.
"""

MAX_NAME_LENGTH = 63
"""A resource name (dataset group, solution, campaign, job, ...): at most 63 characters."""

MAX_ID_LENGTH = 256
"""userId / itemId / eventId: at most 256 characters."""

MAX_ARN_LENGTH = 256
"""A resource ARN (solution version, campaign, ...): at most 256 characters."""

MIN_INTERACTIONS = 1000
"""A solution version needs at least this many interactions to train."""

MIN_USERS_WITH_TWO = 25
"""... and at least this many users with two or more interactions."""

MAX_EVENTS_PER_PUT = 10
"""PutEvents takes 1 to 10 events per call."""

MIN_NUM_RESULTS = 1
MAX_NUM_RESULTS = 500
"""GetRecommendations and batch inference: numResults from 1 to 500."""

MAX_RANKING_ITEMS = 500
"""GetPersonalizedRanking and batch ranking: at most 500 items to rank per user."""

MAX_USERS_PER_SEGMENT = 5_000_000
"""A batch segment job: numResults (users per segment) at most 5 million."""

MAX_SEGMENT_QUERIES = {"aws-item-affinity": 500, "aws-item-attribute-affinity": 10}
"""A batch segment job's input file: at most 500 items (item affinity) or 10 attribute queries."""
