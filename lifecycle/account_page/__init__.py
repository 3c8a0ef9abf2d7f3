"""The account overview (`/accounts/<id>/`): its reads, one plain SQL statement per
panel (`reads`), and the panels written in Python (`panels`).

The page shows a dozen panels from a dozen tables. Through the ORM each panel's
query cost about 1 ms of Python to build and compile (more than PostgreSQL took to
answer it) and the page spent 70 ms per request, 4% of a bare view's throughput
(issue 22, docs/performance.md "Account page"). The statements here are plain,
portable SQL (PostgreSQL and SQLite alike); values come back through Django's own
converters for the model fields they read (`sql.fetch`), so a date is a date and
JSON is decoded on either backend.
"""
