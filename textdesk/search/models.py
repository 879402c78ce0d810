"""Search keeps no models of its own: its index lives beside the tables it indexes (see index.py).

This module still has to exist: Django sends ``post_migrate`` only to apps with a models
module, and the index's SQLite triggers are put back on that signal after a migration that
rebuilt a table (apps.py)."""
