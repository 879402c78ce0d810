"""What the conversations domain tells the apps above it, which it does not import.

Sent inside the transaction that made the change, so a receiver's writes commit or roll back
with it.
"""

from django.dispatch import Signal

# A text was redacted: ``message_id`` (Text Request's id). Apps that keep a copy of texts
# (the webhook events' raw payloads) blank theirs.
message_redacted = Signal()
