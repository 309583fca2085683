"""Per dataset group, what filters read: the Items and Users frames and each user's items by event type."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

FrameOf = Callable[[str], "pd.DataFrame | None"]
"""A dataset type (Interactions, Items, Users) → the group's frame of it, None without data."""


class GroupData:
    """Built on first use from the group's datasets; events add to it, imports replace it."""

    def __init__(self, frame_of: FrameOf) -> None:
        self._frame_of = frame_of
        self._frames: dict[str, pd.DataFrame | None] = {}
        self._user_items: dict[str, dict[str, set[str]]] | None = None
        self._lock = threading.Lock()

    def items(self) -> pd.DataFrame | None:
        return self._metadata("Items", "ITEM_ID")

    def users(self) -> pd.DataFrame | None:
        return self._metadata("Users", "USER_ID")

    def _metadata(self, dataset_type: str, key: str) -> pd.DataFrame | None:
        """The dataset's frame, the last row of each id kept."""
        with self._lock:
            if dataset_type not in self._frames:
                frame = self._frame_of(dataset_type)
                if frame is not None:
                    frame = frame.drop_duplicates(key, keep="last").reset_index(drop=True)
                self._frames[dataset_type] = frame
            return self._frames[dataset_type]

    def user_items(self, user_id: str, event_types: Iterable[str] | None) -> set[str]:
        with self._lock:
            by_type = self._index().get(user_id, {})
            if event_types is None:
                return set().union(*by_type.values()) if by_type else set()
            return set().union(*(by_type.get(kind, set()) for kind in event_types))

    def user_items_of_type(self, user_id: str, event_type: str) -> set[str]:
        """The user's items of one event type, in any letter case (a use case's Watch, View, Purchase)."""
        with self._lock:
            by_type = self._index().get(user_id, {})
            wanted = event_type.lower()
            return set().union(*(items for kind, items in by_type.items() if kind.lower() == wanted))

    def users_with(self, event_types: Iterable[str] | None) -> set[str]:
        """The users with interactions of these event types (of any type for None)."""
        with self._lock:
            index = self._index()
            if event_types is None:
                return {user for user, by_type in index.items() if by_type}
            wanted = set(event_types)
            return {user for user, by_type in index.items() if wanted.intersection(by_type)}

    def _index(self) -> dict[str, dict[str, set[str]]]:
        """Each user's items by event type, built on first use (the caller holds the lock)."""
        import pandas as pd

        if self._user_items is None:
            self._user_items = defaultdict(lambda: defaultdict(set))
            frame = self._frame_of("Interactions")
            if frame is not None:
                table = pd.DataFrame(
                    {
                        "user": frame["USER_ID"].astype(str).to_numpy(),
                        "kind": (
                            frame["EVENT_TYPE"].fillna("").astype(str).to_numpy()
                            if "EVENT_TYPE" in frame.columns
                            else ""
                        ),
                        "item": frame["ITEM_ID"].astype(str).to_numpy(),
                    }
                ).drop_duplicates()
                for (user, kind), items in table.groupby(["user", "kind"], sort=False)["item"]:
                    self._user_items[user][kind] = set(items)
        return self._user_items

    def add_event(self, user_id: str, item_id: str, event_type: str) -> None:
        with self._lock:
            if self._user_items is not None:
                self._user_items[user_id][event_type].add(item_id)
