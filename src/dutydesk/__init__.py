"""dutydesk: a self-hosted on-call ticket queue."""

__version__ = "0.1.0"
