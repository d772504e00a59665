"""The PostgreSQL NOTIFY channel of a schema: commits announced on it reach only servers of the same schema."""

# NOTIFY is delivered to every session of the database that LISTENs on the channel, whatever its search
# path; halls of two schemas (two deployments or two test runs sharing a database) have the same codes, and
# a listener that heard the other schema's `t1:57` would move its hub's head past its own events. So the
# channel names the schema: a hash, because a channel name is at most 63 bytes and a schema name may be 63.
CHANNEL_QUERY = "SELECT 'hall_events_' || left(md5(current_schema()), 16)"
NOTIFY_SQL = (
    "SELECT pg_notify('hall_events_' || left(md5(current_schema()), 16), p) FROM unnest(CAST(:payloads AS text[])) AS p"
)
