"""Durable workflows: thin adapters that run the domain's pathway on Temporal."""

TASK_QUEUE = "cse-referrals"
