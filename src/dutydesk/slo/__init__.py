"""Service-level objectives: business-hours calendars and the due times derived from them."""
