"""Stand-ins for the services textdesk talks to: development and tests only.

See docs/architecture.md: one core (``standins.core``), one backend per service.
"""
