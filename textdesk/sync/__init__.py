"""The sync orchestrator: above the domain apps, it decides what each line reads from Text
Request and when (periodic tasks, per-line leases, first-sync order, the ``sync`` command, the
sync status page), and hands each resource to the domain that owns it."""
