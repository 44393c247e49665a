/**
 * The shell scripts the PostgreSQL image runs (pg_dump, pg_restore and psql are the official tools; the
 * scripts only order them). They are rendered into the runner ConfigMap, and the tests and the local drill
 * run exactly these texts with Debian's PostgreSQL. POSIX sh: the image's dash, busybox ash, any host sh.
 */

const HEADER = (what: string) => `#!/bin/sh
# groundwork dr: ${what}
# Rendered by packages/dr/src/scripts/postgres.ts; connection from PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD.
set -eu
work="\${DR_WORK:-/work}"
`;

export const DUMP_FILE = 'postgres.dump';

/** Custom format: compressed, and pg_restore can restore it whole or table by table. */
export const postgresDump = `${HEADER('dump the n8n database in pg_dump\'s custom format.')}
out="$work/${DUMP_FILE}"
echo "dumping database $PGDATABASE on $PGHOST:$PGPORT as $PGUSER"
pg_dump --format=custom --compress=6 --lock-wait-timeout=60000 --no-password --file="$out.partial"
# Reading the archive's table of contents back: a dump pg_restore cannot read fails the backup now.
pg_restore --list "$out.partial" > /dev/null
mv "$out.partial" "$out"
echo "dump complete: $(wc -c < "$out") bytes"
`;

/**
 * Exact row counts of every table in one query (query_to_xml runs a count per table), tab-separated.
 * Statistics would be cheaper, but a freshly restored database has none.
 */
export const TABLES_SQL = `select table_name, (xpath('/row/c/text()', query_to_xml(format('select count(*) as c from %I.%I', table_schema, table_name), false, true, '')))[1]::text from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`;

const NEWEST_EXECUTION_SQL = `select coalesce(to_char(max("startedAt") at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '') from execution_entity`;

/**
 * The drill: a throwaway PostgreSQL in the work folder (no network, trust on its own socket), the dump
 * restored in one transaction that stops at the first error, then the tables counted for the report.
 */
export const postgresDrill = `${HEADER('restore the fetched dump into a scratch PostgreSQL and count what came back.')}
data="$work/pgdata"
socket="$work/socket"
results="$work/drill"
mkdir -p "$socket" "$results"
initdb --pgdata="$data" --username=postgres --auth=trust --encoding=UTF8 --no-sync > "$results/initdb.log"
pg_ctl --pgdata="$data" --log="$results/postgres.log" --wait --timeout=120 --options="-c listen_addresses='' -c unix_socket_directories=$socket -c fsync=off -c full_page_writes=off" start > /dev/null
trap 'pg_ctl --pgdata="$data" --mode=fast --wait stop > /dev/null 2>&1 || true' EXIT
export PGHOST="$socket" PGUSER=postgres
createdb drill
started=$(date +%s)
pg_restore --dbname=drill --exit-on-error --single-transaction --no-owner --no-privileges "$work/${DUMP_FILE}"
echo $(( $(date +%s) - started )) > "$results/restore-seconds"
query() { psql --dbname=drill --no-psqlrc --tuples-only --no-align --field-separator='	' --command="$1"; }
query "${TABLES_SQL.replace(/"/g, '\\"')}" > "$results/tables.tsv"
if [ "$(query "select to_regclass('public.execution_entity') is not null")" = t ]; then
  query '${NEWEST_EXECUTION_SQL.replace(/'/g, "'\\''")}' > "$results/newest-execution"
fi
echo "restored $(wc -l < "$results/tables.tsv") tables in $(cat "$results/restore-seconds")s"
`;

/**
 * A restore into the running database (n8n stopped first): every object of the dump dropped and re-created,
 * all in one transaction, so a failure leaves the database as it was.
 */
export const postgresRestore = `${HEADER('restore the fetched dump into the n8n database, replacing what the dump holds.')}
echo "restoring into database $PGDATABASE on $PGHOST:$PGPORT as $PGUSER"
pg_restore --no-password --dbname="$PGDATABASE" --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error "$work/${DUMP_FILE}"
echo "restore complete"
`;
