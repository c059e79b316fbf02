#!/bin/sh
# Runs once when the PostgreSQL container initialises its data directory.
# lineal_app: the group role the migrations grant table privileges to (RLS applies to it).
# lineal_service: the service's login role; a member of lineal_app that owns nothing. Its
# password comes from LINEAL_SERVICE_PASSWORD (docker-compose.yml requires it; nothing is
# hard-coded), passed to psql as a variable so that it is quoted as a literal.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v service_password="$LINEAL_SERVICE_PASSWORD" <<'SQL'
CREATE ROLE lineal_app NOLOGIN;
CREATE ROLE lineal_service LOGIN IN ROLE lineal_app;
ALTER ROLE lineal_service PASSWORD :'service_password';
SQL
