#!/bin/sh
# One backup of the Dakoku server's PostgreSQL database: pg_dump in custom format into DIR (0700), the file 0600,
# written under a temporary name, checked with `pg_restore --list` and only then renamed; then all but the newest
# KEEP backups are deleted. The database comes from $DAKOKU_SERVER_DB (the server's own URL; the connection pool's
# parameters, which libpq does not know, are dropped). Restore: packaging/server/README.md.
#   backup.sh [--dir /var/backups/dakoku-server] [--keep 14]
set -eu
dir=/var/backups/dakoku-server
keep=14
while [ $# -gt 0 ]; do
    case "$1" in
        --dir) dir=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        *) echo "usage: $0 [--dir DIR] [--keep N]" >&2; exit 2 ;;
    esac
done
case "$keep" in ''|*[!0-9]*|0) echo "--keep must be a positive number" >&2; exit 2 ;; esac
: "${DAKOKU_SERVER_DB:?DAKOKU_SERVER_DB is not set (see server.env.example)}"
case "$DAKOKU_SERVER_DB" in
    postgres*) ;;
    *) echo "backup.sh backs up PostgreSQL; for SQLite copy the file with sqlite3 .backup" >&2; exit 2 ;;
esac
# libpq's URI: postgresql:// scheme, without the pool's max_connections / stale_timeout / timeout parameters
url=$(printf '%s' "$DAKOKU_SERVER_DB" | sed -E \
    -e 's#^postgres(ql)?(\+pool)?://#postgresql://#' \
    -e ':a' -e 's#([?&])(max_connections|stale_timeout|timeout)=[^&]*(&|$)#\1#' -e 'ta' -e 's#[?&]$##')
umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
final="$dir/dakoku-$stamp.dump"
partial="$dir/.dakoku-$stamp.dump.partial"
trap 'rm -f "$partial"' EXIT
pg_dump --format=custom --no-password --file="$partial" --dbname="$url"
pg_restore --list "$partial" > /dev/null
mv "$partial" "$final"
trap - EXIT
# rotation: the newest $keep stay (names sort by time)
ls -1 "$dir" | grep -E '^dakoku-[0-9]{8}T[0-9]{6}Z\.dump$' | sort -r | tail -n +"$((keep + 1))" | while read -r old; do
    rm -f "$dir/$old"
done
echo "$final"
