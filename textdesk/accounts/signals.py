"""What the accounts domain tells the apps above it, which it does not import."""

from django.dispatch import Signal

# Someone went Available or Away: ``user``, ``is_available``. Sent inside the transaction that
# changed it (conversations drains its waiting queue for them on commit).
availability_changed = Signal()
