"""Logging filters, configured in settings.LOGGING (so nothing here may import models)."""

import logging
import re

HOOK_PATH = re.compile(r"/hooks/[^/\s\"]+")


class RedactWebhookTokens(logging.Filter):
    """Keep webhook tokens (the only secret of a receiver URL) out of every log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/hooks/" in message:
            record.msg = HOOK_PATH.sub("/hooks/<token>", message)
            record.args = ()
        return True
