"""From a task's change to its subscribers: event kinds, the brokers, and watching."""
