"""What this domain tells the layers above it (they connect; it never imports them)."""

from django.dispatch import Signal

# An admin connected a Text Request account: its lines are read, its first sync may start.
connection_added = Signal()  # kwargs: connection

# An admin changed a line's automatic assignment (rule or capacity): ``dashboard``.
assignment_changed = Signal()
