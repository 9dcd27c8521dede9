"""The BPMN runtime of Yimen.

Safe parsing and validation of deployments, the sandboxed script engine,
versioned definitions, instances, work items and timers. It knows nothing of
Flask or of any particular approval item, and never imports ``app``.
"""
