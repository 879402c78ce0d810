"""What Text Request POSTs to us: texts sent and received, delivery statuses.

Received here, stored raw once, and handed by a task to the domain that owns messages
(``conversations``). Only the sync orchestrator (its status page lists events set aside) and the
URLconf import it.
"""
