#!/bin/sh
# PostgreSQL for the Dakoku server on this host (run as root, after `apt-get install postgresql`; idempotent):
# the role and database (postgresql-setup.sql), a pg_hba.conf line that lets only that role into that database,
# over the Unix socket with peer authentication (the OS user dakoku_server: no password exists to leak), and
# /etc/dakoku-server/server.env with the URL. Other pg_hba.conf lines are left as they are: check that none of
# them lets anyone else into the database (`all all` lines do; REVOKE CONNECT ... FROM PUBLIC stops them).
#   setup-postgresql.sh [--role dakoku_server] [--db dakoku] [--hba /etc/postgresql/15/main/pg_hba.conf]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
role=dakoku_server
db=dakoku
hba=
while [ $# -gt 0 ]; do
    case "$1" in
        --role) role=$2; shift 2 ;;
        --db) db=$2; shift 2 ;;
        --hba) hba=$2; shift 2 ;;
        *) echo "usage: $0 [--role NAME] [--db NAME] [--hba PG_HBA_CONF]" >&2; exit 2 ;;
    esac
done
if [ -z "$hba" ]; then
    hba=$(runuser -u postgres -- psql -XAtc 'SHOW hba_file')
fi
getent passwd "$role" > /dev/null || systemd-sysusers "$here/dakoku-server.sysusers"
runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -v role="$role" -v db="$db" -f "$here/postgresql-setup.sql"
line="local   $db   $role   peer"
if ! grep -Eq "^local[[:space:]]+$db[[:space:]]+$role[[:space:]]+peer" "$hba"; then
    # first match wins in pg_hba.conf: put it before the generic lines
    tmp=$(mktemp)
    { echo "# Dakoku server (packaging/server/setup-postgresql.sh)"; echo "$line"; cat "$hba"; } > "$tmp"
    cat "$tmp" > "$hba"
    rm -f "$tmp"
    runuser -u postgres -- psql -XAtc 'SELECT pg_reload_conf()' > /dev/null
fi
install -d -m 0755 /etc/dakoku-server
if [ ! -e /etc/dakoku-server/server.env ]; then
    umask 027
    printf 'DAKOKU_SERVER_DB=postgresql://%s@/%s?host=/var/run/postgresql\n' "$role" "$db" \
        > /etc/dakoku-server/server.env
    chgrp "$role" /etc/dakoku-server/server.env
fi
install -d -m 0700 -o "$role" -g "$role" /var/backups/dakoku-server
echo "PostgreSQL ready: database $db, role $role (peer over the Unix socket); /etc/dakoku-server/server.env"
