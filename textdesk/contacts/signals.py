"""What the contacts domain tells the apps above it, which it does not import.

Both are sent inside the transaction that changed the contact, so a receiver's writes commit
or roll back with it.
"""

from django.dispatch import Signal

# A contact opted out (texted STOP, or Text Request says so): ``contact``.
opted_out = Signal()
# Text Request's archived/resolved state of a contact was applied: ``contact``,
# ``is_archived``, ``is_resolved``.
state_synced = Signal()
