"""Triage assistance shared by the pages and the API: duplicate suggestions and title hints.

``titles`` and ``ranking`` are pure rules; ``service`` runs the queries they need.
"""
