"""From a change of a task to its subscribers: one path, in this order.

```
frame ─▶ tracker ─▶ TaskChanges ─▶ broker ─▶ watch ─▶ subscriber
                    (transitions,    └─▶ pg_broker ── NOTIFY ──▶ the other replicas' broker
                     snapshots)
```

- `tasks.runtime.tracker` turns a ComfyUI progress frame into `TaskChanges.progress` and a
  status message into a transition (through `tasks.runtime.outcomes`).
- `tasks.store.transitions` (`TaskChanges`) is the one writer of task changes and the one
  allocator of their sequences in a replica (one lock per task). A transition is one
  conditional UPDATE with a sequence bump, then one event. Progress is kept in memory per
  running task and published at once with the next sequence; it is written with the task's
  next transition or by a plain timer.
- `tasks.store.snapshots`: the `TaskEvent` (kind, status, sequence) and the `TaskSnapshot` it
  carries, a frozen copy of the task made from a row in one place (progress moves it on
  without the database).
- `tasks.events.broker` fans events out to this process's subscribers with bounded queues
  (progress and previews conflated, transitions always kept); `tasks.events.pg_broker` also
  relays them to the other replicas with NOTIFY, progress in the payload, while another
  replica listens (replicas count each other's listening sessions and greet on the channel).
- `tasks.events.watch` gives a subscriber the current snapshot, then every newer change once.
"""
