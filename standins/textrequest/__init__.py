"""A faithful local stand-in for the Text Request API v3 (see COVERAGE.md).

Framework-free at its core (``backend`` + ``server``); the Django app only adds the
``manage.py sandbox serve`` command. textdesk's own apps never import this package.
"""
