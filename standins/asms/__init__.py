"""A local stand-in for Aranda Service Management Suite's connector API (see COVERAGE.md).

Framework-free at its core (``backend`` + ``server``); the Django app only adds the
``manage.py asms_sandbox serve`` command. textdesk's own apps never import this package.
"""
