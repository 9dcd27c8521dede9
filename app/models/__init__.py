"""The schema: every table of the platform, one module per feature (named like its folder).

Models import only the kernel-free base (``workflows.db``, ``workflows.models``,
``app.vocabulary``) and each other; any layer may import them. Importing this
package registers every table with the metadata (migrations, tools).
"""

from . import (  # noqa: F401
    applicants,
    audit,
    auth,
    cases,
    desk,
    feedback,
    files,
    items,
    library,
    notifications,
    once,
    org,
    payments,
    routing,
    statistics,
    supervision,
)
