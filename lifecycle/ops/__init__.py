"""Running Lifecycle on several hosts: the shared-state primitives (counters, delayed
tasks, queues), health endpoints, request ids and JSON logs. Imports no app of ours,
so every app may use it."""
