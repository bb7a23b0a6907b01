"""Backups and moving house: snapshots, restores, the JSONL export and copying a database
from one engine to another, verified row by row."""
