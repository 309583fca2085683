"""Estimated cost of a train run from the API's own figures.

Quantities come from Personalize itself: ``trainingHours`` of DescribeSolutionVersion, a campaign's
``minProvisionedTPS`` from DescribeCampaign, the number of users sent to batch inference and the bytes
imported. Prices are parameters. The defaults are AWS list prices for Amazon Personalize custom
solutions in us-east-1 (first pricing tier) as last known to this project — ESTIMATES, not a bill:
check https://aws.amazon.com/personalize/pricing/ for your region, tier and recipe (newer recipes
such as User-Personalization-v2 are priced differently). A campaign is billed for the larger of its
minimum provisioned TPS and the TPS it actually serves, so the campaign line is a lower bound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Prices:
    """USD unit prices; the defaults are list-price estimates (see the module docstring).

    :param training_hour: per training hour (4 vCPU, 8 GiB); default 0.24.
    :param tps_hour: per provisioned TPS per hour of a campaign; default 0.20 (first 20K TPS-hours a month).
    :param batch_per_1000_users: per 1,000 users of batch recommendations; default 0.067 (first 20M users).
    :param ingestion_per_gb: per GB of data imported; default 0.05.
    """

    training_hour: float = 0.24
    tps_hour: float = 0.20
    batch_per_1000_users: float = 0.067
    ingestion_per_gb: float = 0.05


@dataclass(frozen=True)
class CostLine:
    """One priced quantity; ``usd`` is None when the API did not report the quantity."""

    item: str
    quantity: float | None
    unit: str
    unit_price: float
    usd: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "quantity": self.quantity,
            "unit": self.unit,
            "unit_price": self.unit_price,
            "usd": self.usd,
        }


@dataclass(frozen=True)
class CostEstimate:
    """Priced lines of one run; lines the API gave no figure for are kept with ``usd=None``."""

    lines: tuple[CostLine, ...]

    @property
    def total_usd(self) -> float:
        return round(self.exact_usd, 4)

    @property
    def exact_usd(self) -> float:
        """The total unrounded: what tells apart runs that each cost a fraction of a cent."""
        return sum(line.usd for line in self.lines if line.usd is not None)

    @property
    def unpriced(self) -> list[str]:
        return [line.item for line in self.lines if line.usd is None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "estimate": True,
            "currency": "USD",
            "total_usd": self.total_usd,
            "unpriced": self.unpriced,
            "lines": [line.as_dict() for line in self.lines],
        }

    def summary(self) -> str:
        """One line per cost for the task log, then the total."""
        rows = [
            f"  {line.item}: {'?' if line.quantity is None else f'{line.quantity:,.4g}'} {line.unit} × ${line.unit_price:g}"
            f" = {'not reported' if line.usd is None else f'${line.usd:,.4f}'}"
            for line in self.lines
        ]
        note = f" ({len(self.unpriced)} line(s) not reported)" if self.unpriced else ""
        return "\n".join(
            ["estimated cost (list prices, not a bill):", *rows, f"  total ≈ ${self.total_usd:,.4f}{note}"]
        )


def _unwrap(response: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """Accept a Describe* response or the resource inside it."""
    inner = response.get(key)
    return inner if isinstance(inner, Mapping) else response


def _line(item: str, quantity: float | None, unit: str, unit_price: float) -> CostLine:
    usd = None if quantity is None else round(quantity * unit_price, 6)
    return CostLine(item=item, quantity=quantity, unit=unit, unit_price=unit_price, usd=usd)


def estimate_run_cost(
    *,
    solution_versions: Sequence[Mapping[str, Any]] = (),
    campaigns: Sequence[Mapping[str, Any]] = (),
    campaign_hours: float = 24.0,
    batch_users: int = 0,
    ingested_bytes: int = 0,
    prices: Prices | None = None,
) -> CostEstimate:
    """Price one train run.

    :param solution_versions: DescribeSolutionVersion responses (or their ``solutionVersion``) of the
        versions this run trained; each contributes ``trainingHours``.
    :param campaigns: DescribeCampaign responses (or their ``campaign``) this run created or updated;
        each contributes ``minProvisionedTPS`` × ``campaign_hours``.
    :param campaign_hours: hours of campaign time to price (24 = one day of serving).
    :param batch_users: users sent to batch inference (holdout evaluation of every model).
    :param ingested_bytes: bytes imported into Personalize (the export's training files).
    :param prices: unit prices; :class:`Prices` defaults when omitted.
    """
    if campaign_hours < 0 or batch_users < 0 or ingested_bytes < 0:
        raise ValueError("campaign_hours, batch_users and ingested_bytes must be >= 0")
    prices = prices or Prices()
    lines = []
    if ingested_bytes:
        lines.append(_line("data import", ingested_bytes / 1e9, "GB", prices.ingestion_per_gb))
    for response in solution_versions:
        version = _unwrap(response, "solutionVersion")
        hours = version.get("trainingHours")
        name = version.get("solutionVersionArn", "solution version")
        lines.append(
            _line(
                f"training {name}",
                None if hours is None else float(hours),
                "training hours",
                prices.training_hour,
            )
        )
    for response in campaigns:
        campaign = _unwrap(response, "campaign")
        tps = campaign.get("minProvisionedTPS")
        name = campaign.get("campaignArn", "campaign")
        quantity = None if tps is None else float(tps) * campaign_hours
        lines.append(
            _line(
                f"campaign {name} ({tps} TPS × {campaign_hours:g} h)", quantity, "TPS-hours", prices.tps_hour
            )
        )
    if batch_users:
        lines.append(
            _line("batch inference", batch_users / 1000, "thousand users", prices.batch_per_1000_users)
        )
    return CostEstimate(lines=tuple(lines))
