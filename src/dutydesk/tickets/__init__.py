"""Tickets: filing, workflow moves, triage, comments, history, queue order and search."""
