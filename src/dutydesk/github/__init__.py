"""The GitHub bridge: signed webhook deliveries turned into tickets, comments and closings."""
