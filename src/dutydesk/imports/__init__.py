"""Ways in: importing a team's history from JSONL, GitHub issues and Jira CSV exports."""
