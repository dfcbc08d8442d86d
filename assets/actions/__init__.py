"""Order actions (SPEC 2.2): rendering a communication from a pinned order version, delivering it.

The modules here are plain Python with no Dagster imports, so the delivery job, the intake and the
tests all share one implementation: `rendering` turns a template and a context into a message,
`channels` delivers it (outbox, smtp, webhook).
"""
