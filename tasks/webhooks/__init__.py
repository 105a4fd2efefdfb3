"""Announcing a task's end to the owner's URL: targets, the outbox and the sender."""
