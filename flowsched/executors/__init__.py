"""Executors: where a task try runs (see docs/architecture.md, "Executor contract")."""
