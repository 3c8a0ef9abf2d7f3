"""CSV imports of accounts and usage snapshots: every row checked first (once, in
the worker), written only when the user confirms (all rows, or only the valid
ones), in the worker, in bulk, with a progress bar."""

from .parsing import MAX_ROWS, Preview, RowResult, columns_for, preview_build, rows_to_csv
from .services import (
    import_apply,
    import_batch_check,
    import_batch_create,
    import_batch_preview,
    import_run,
)

__all__ = [
    "MAX_ROWS",
    "Preview",
    "RowResult",
    "columns_for",
    "import_apply",
    "import_batch_check",
    "import_batch_create",
    "import_batch_preview",
    "import_run",
    "preview_build",
    "rows_to_csv",
]
