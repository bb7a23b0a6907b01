"""On-call rotations: who is on call when, and the edits people make to a rotation.

Pure rules: ``schedule`` (rotation arithmetic), ``rules`` (memberships, pins for the past,
handoff windows), ``fairness``, ``ical`` (iCalendar in and out); the declared rotation itself
comes from :mod:`dutydesk.policy.rotations`. ``loading`` compiles a rotation with its stored
edits and caches it per version. Edits take a :class:`~dutydesk.context.Ctx` and go through
``writing``: ``overrides`` (and take), ``swaps``, ``time_off``, ``membership``,
``ical_import``, the calendar links in ``feeds``. Questions take a session: ``reads`` and
the feeds themselves. Both return the ``schemas`` objects the API sends.
"""
