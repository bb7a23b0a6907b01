"""Policy as code: ``dutydesk.toml`` parsed into validated models."""

from dutydesk.policy.loader import PolicyError, load_policy, parse_policy
from dutydesk.policy.models import DeskPolicy, Policy

__all__ = ["DeskPolicy", "Policy", "PolicyError", "load_policy", "parse_policy"]
