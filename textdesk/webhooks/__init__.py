"""What Text Request POSTs to us: texts sent and received, delivery statuses.

Received here, stored raw once, and handed by a task to the domain that owns messages
(``conversations``). The top of the import graph besides the sync orchestrator: nothing imports it
but the URLconf.
"""
