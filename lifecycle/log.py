"""Logging pieces the settings' LOGGING refers to."""

from __future__ import annotations

import logging


class RefusalsOnOneLine(logging.Filter):
    """A refused request (403, 404, 400: Django logs them with the exception
    that caused them) is expected traffic, not a crash: log it as one warning
    line with the reason instead of a traceback. 5xx keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and 400 <= status < 500 and record.exc_info:
            reason = record.exc_info[1]
            if reason is not None and str(reason):
                # The message is %-formatted with its args later: keep % literal.
                record.msg = f"{record.msg} ({str(reason).replace('%', '%%')})"
            record.exc_info = None
            record.exc_text = None
        return True
