"""A recommender is scored in real time: paced under its requests per second, throttling retried, a refused
request counted (its user scores 0); the recommenders no longer serving are the ones to stop."""

from __future__ import annotations

from botocore.exceptions import ClientError

from personalize_pipelines.training.recommenders import not_serving, recorded_champion, score_in_real_time

ARN = "arn:aws:personalize:us-east-1:123456789012:recommender/movies-top-picks"


class Clock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def refusal(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "GetRecommendations")


class Runtime:
    def __init__(self, clock: Clock, failures: dict[str, list[str]]) -> None:
        self.clock, self.failures, self.requests = clock, failures, []

    def get_recommendations(self, **request):
        self.requests.append(request)
        self.clock.calls.append(self.clock.now)
        pending = self.failures.get(request["userId"], [])
        if pending:
            raise refusal(pending.pop(0))
        return {"itemList": [{"itemId": f"{request['userId']}-{i}"} for i in range(request["numResults"])]}


def test_requests_are_paced_under_the_recommenders_requests_per_second_and_throttling_is_retried():
    clock = Clock()
    runtime = Runtime(clock, {"u2": ["ThrottlingException"], "u3": ["InvalidInputException"]})
    answers, counts = score_in_real_time(
        runtime,
        recommender_arn=ARN,
        users=["u1", "u2", "u3", "u4"],
        num_results=3,
        requests_per_second=2,
        sleep=clock.sleep,
        clock=lambda: clock.now,
    )
    assert answers == {user: [f"{user}-{i}" for i in range(3)] for user in ("u1", "u2", "u4")}
    assert counts == {"requests": 4, "users_recommended": 3, "error_requests": 1, "retries": 1}
    assert {r["recommenderArn"] for r in runtime.requests} == {ARN}
    first_tries = [clock.calls[0], clock.calls[1], clock.calls[3], clock.calls[4]]  # calls[2]: u2's retry
    assert all(later - earlier >= 0.5 for earlier, later in zip(first_tries, first_tries[1:], strict=False))


def test_the_champion_is_judged_on_the_metrics_the_registry_recorded():
    assert recorded_champion({}) is None
    champion = recorded_champion(
        {"recommender_arn": ARN, "solution_version_arn": None, "metrics": {"ndcg_at_10": 0.3}, "recipe": "r"}
    )
    assert (champion.name, champion.solution_version_arn, champion.metric("ndcg_at_10")) == (
        "champion",
        ARN,
        0.3,
    )


def test_the_recommenders_to_stop_are_those_no_longer_serving():
    old = {"top-picks": "arn:old-top", "popular": "arn:old-popular"}
    new = {"top-picks": "arn:new-top", "popular": "arn:new-popular"}
    assert not_serving(old, serving=new) == ["arn:old-popular", "arn:old-top"]
    assert not_serving(old, serving=old) == []  # a long-lived group's recommenders serve on
