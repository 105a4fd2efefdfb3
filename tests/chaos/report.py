"""The outcome of a chaos run: one summary line of counts, and the details behind any problem."""

from __future__ import annotations

from dataclasses import dataclass, field

# Counts that must be zero for the run to pass.
INVARIANTS = (
    "lost",
    "stuck",
    "rerun",
    "orphans",
    "unreadable",
    "duplicates",
    "refused",
    "cancel_errors",
    "webhooks_lost",
)


@dataclass
class Summary:
    seed: int
    accepted: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    lost: int = 0
    stuck: int = 0
    rerun: int = 0
    orphans: int = 0
    unreadable: int = 0
    duplicates: int = 0
    refused: int = 0
    cancel_errors: int = 0
    webhooks_lost: int = 0
    api_kills: int = 0
    emulator_kills: int = 0
    ws_drops: int = 0
    details: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Something worth reading that does not fail the run (retries, failure codes, ...)."""
        self.notes.append(text)

    def problem(self, text: str) -> None:
        """Evidence behind a non-zero invariant."""
        self.details.append(text)

    @property
    def passed(self) -> bool:
        return all(getattr(self, name) == 0 for name in INVARIANTS)

    def line(self) -> str:
        counts = (
            "accepted",
            "completed",
            "failed",
            "cancelled",
            *INVARIANTS,
            "api_kills",
            "emulator_kills",
            "ws_drops",
            "seed",
        )
        return "chaos: " + " ".join(f"{name}={getattr(self, name)}" for name in counts)
