"""Whether ComfyUI still routes to our websocket: what the socket heard, and the stall it shows.

ComfyUI keeps one socket per client id and forgets the id's entry when *any* socket with that id
closes; our socket then stays open (pings still answered) but receives nothing. Two signs give
it away: every POST /prompt broadcasts `status` to every registered socket, so a prompt sent and
no `status` heard soon after means we are not registered; and ComfyUI's queue moving while our
socket hears no `status` (each queue change broadcasts one) means the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class SocketHealth:
    statuses: int = 0
    """`status` frames heard, on any connection (a counter: only its increase matters)."""
    awaited: tuple[int, float] | None = None
    """(statuses heard before, monotonic time) of the oldest POST /prompt not yet answered by
    a `status` frame."""
    stalled_since: datetime | None = None
    stall_reason: str | None = None
    stalls: int = 0
    """Stalls seen since start-up."""

    def heard_status(self) -> None:
        self.statuses += 1

    def prompt_sent(self, statuses_before: int, sent_at: float) -> None:
        if self.awaited is None or self.statuses > self.awaited[0]:
            self.awaited = (statuses_before, sent_at)

    def status_overdue(self, now: float, seconds: float) -> float | None:
        """Seconds since a POST /prompt that no `status` frame has followed, once over `seconds`."""
        if self.awaited is None:
            return None
        heard_before, sent_at = self.awaited
        if self.statuses > heard_before:
            return None  # answered; the next POST /prompt starts a new wait
        waited = now - sent_at
        return waited if waited >= seconds else None

    def stalled(self, reason: str, at: datetime) -> bool:
        """Record a stall; True when it is a new one (not the one already being handled)."""
        if self.stalled_since is not None:
            return False
        self.stalled_since = at
        self.stall_reason = reason
        self.stalls += 1
        return True

    def connected(self) -> datetime | None:
        """A new socket was greeted (so it is registered): the stall, if any, is over. Returns
        when the stall began, None when there was none."""
        began = self.stalled_since
        self.stalled_since = None
        self.stall_reason = None
        self.awaited = None
        return began
