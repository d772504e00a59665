"""The PostgreSQL NOTIFY channel of a schema: commits announced on it reach only servers of the same schema."""

# NOTIFY is delivered to every session of the database that LISTENs on the channel, whatever its search
# path; halls of two schemas (two deployments or two test runs sharing a database) have the same codes, and
# a listener that heard the other schema's `t1:57` would move its hub's head past its own events. So the
# channel names the schema: a hash, because a channel name is at most 63 bytes and a schema name may be 63.
CHANNEL_QUERY = "SELECT 'hall_events_' || left(md5(current_schema()), 16)"
NOTIFY_SQL = (
    "SELECT pg_notify('hall_events_' || left(md5(current_schema()), 16), p) FROM unnest(CAST(:payloads AS text[])) AS p"
)
# The events themselves, on a second channel (`<channel>_ev`): `<origin>`, `<hall>` and then each event's wire
# text, one a line, as many as fit in a notification (services/tx.py `carried`). Sent before the
# `<hall>:<seq>:<origin>` ones of the same commit, so a listener has them by the time it hears how far the hall
# got; a listener that does not know this channel (an older server) hears the first as before and reads the
# events from the table.
BODIES_SUFFIX = "_ev"
NOTIFY_BODIES_SQL = (  # constants only; the payloads are bound
    "SELECT pg_notify('hall_events_' || left(md5(current_schema()), 16) || '" + BODIES_SUFFIX + "', b)"  # noqa: S608
    " FROM unnest(CAST(:bodies AS text[])) AS b"
)
BODY_LIMIT = 7_900  # bytes of one notification's payload (PostgreSQL refuses 8,000 and more)
BODIES_LIMIT = 64_000  # bytes of a hall's events carried per commit; the rest are read from the table
# Staff users whose row changed (a revocation, a config sync at a start), on a third channel (`<channel>_users`):
# one notification per user, the payload the username only (never a hash, a role or anything else of the row).
# Sent in the writing transaction, so delivered at its commit: every other server process drops what it
# remembered of the user (services/auth.py `TokenService.revoked`) and reads the row again on their next request.
USERS_SUFFIX = "_users"
NOTIFY_USERS_SQL = (  # constants only; the names are bound
    "SELECT pg_notify('hall_events_' || left(md5(current_schema()), 16) || '" + USERS_SUFFIX + "', u)"  # noqa: S608
    " FROM unnest(CAST(:names AS text[])) AS u"
)
