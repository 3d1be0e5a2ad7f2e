-- The Dakoku server's role and database (run as a PostgreSQL superuser; idempotent):
--   psql -v ON_ERROR_STOP=1 -v role=dakoku_server -v db=dakoku -f postgresql-setup.sql
-- The role: LOGIN only (no superuser, no CREATEDB, no CREATEROLE), owner of its one database, which nobody else
-- may connect to (REVOKE ... FROM PUBLIC). The database holds the server's secrets (card keys, the timecard
-- secret, password hashes): pg_hba.conf lets only this role in, from this host (setup-postgresql.sh).
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L LC_COLLATE %L LC_CTYPE %L TEMPLATE template0',
              :'db', :'role', 'UTF8', 'C', 'C')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'role') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'db', :'role') \gexec
\connect :"db"
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SELECT format('ALTER SCHEMA public OWNER TO %I', :'role') \gexec
