"""HTTP plumbing shared by every router: problems, limits, auth, ETags, idempotency."""
