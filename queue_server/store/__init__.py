"""The one access path to the hot aggregates: tickets, windows, queue averages, counters, hall seqs, events.

Every read and write of those rows on the calling path goes through the functions of this package:
SQLAlchemy Core statements, built once (the hottest run as `fastsql.Prepared`, which is used nowhere
else), that take a `Connection` and plain values and return plain immutable rows (`TicketRow`,
`WindowRow`, named tuples). No ORM instance of these tables is loaded here, so none can go stale in a
writer batch or outlive the transaction that read it; a change returns the new row
(`update_ticket(conn, t, status=…)`), and the services pass rows on. The ORM models in `models.py`
remain the schema (and serve the cold paths: cases, feedback, appointments).
"""
