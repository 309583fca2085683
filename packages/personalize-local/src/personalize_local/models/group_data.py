"""Per dataset group, what filters read: the Items frame and each user's items by event type."""

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
        self._items: pd.DataFrame | None = None
        self._items_loaded = False
        self._user_items: dict[str, dict[str, set[str]]] | None = None
        self._lock = threading.Lock()

    def items(self) -> pd.DataFrame | None:
        with self._lock:
            if not self._items_loaded:
                frame = self._frame_of("Items")
                if frame is not None:
                    frame = frame.drop_duplicates("ITEM_ID", keep="last").reset_index(drop=True)
                self._items, self._items_loaded = frame, True
            return self._items

    def user_items(self, user_id: str, event_types: Iterable[str] | None) -> set[str]:
        import pandas as pd

        with self._lock:
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
            by_type = self._user_items.get(user_id, {})
            if event_types is None:
                return set().union(*by_type.values()) if by_type else set()
            return set().union(*(by_type.get(kind, set()) for kind in event_types))

    def add_event(self, user_id: str, item_id: str, event_type: str) -> None:
        with self._lock:
            if self._user_items is not None:
                self._user_items[user_id][event_type].add(item_id)
