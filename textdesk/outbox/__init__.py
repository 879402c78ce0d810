"""The outbox: every write textdesk makes to Text Request, exactly once in effect.

The bottom layer above the client. It knows rows, states and Text Request's errors, never a
domain: each domain app registers the handlers of its own kinds of change (``registry``) and
its own sweeper in ``AppConfig.ready()``.
"""
