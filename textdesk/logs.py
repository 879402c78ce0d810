"""Logging filters, configured in settings.LOGGING (so nothing here may import models), and
given to Celery's own handlers by textdesk/celery.py."""

import logging
import re

HOOK_PATH = re.compile(r"/hooks/[^/\s\"'<>]+")
REDACTED = "/hooks/<token>"


class RedactWebhookTokens(logging.Filter):
    """Keep webhook tokens (the only secret of a receiver URL) out of every log line,
    including the text of a logged exception and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/hooks/" in message:
            record.msg = HOOK_PATH.sub(REDACTED, message)
            record.args = ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text once set, so the traceback is redacted once, here.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and "/hooks/" in record.exc_text:
            record.exc_text = HOOK_PATH.sub(REDACTED, record.exc_text)
        if record.stack_info and "/hooks/" in record.stack_info:
            record.stack_info = HOOK_PATH.sub(REDACTED, record.stack_info)
        return True


def redact_handlers(logger: logging.Logger) -> None:
    """Give every handler of `logger` the redaction filter (once)."""
    for handler in logger.handlers:
        if not any(isinstance(f, RedactWebhookTokens) for f in handler.filters):
            handler.addFilter(RedactWebhookTokens())
