"""On-call rotations: who is on call when (pure arithmetic in ``schedule``), iCalendar in ``ical``.

Nothing here touches the database: the service layer loads policy, overrides, swaps and time off,
builds a :class:`dutydesk.oncall.schedule.Schedule` and asks it questions.
"""
