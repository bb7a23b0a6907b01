"""Notifications: the transactional outbox and its delivery worker."""
