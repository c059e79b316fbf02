-- Runs once when the PostgreSQL container initialises its data directory.
-- lineal_app: the group role the migrations grant table privileges to (RLS applies to it).
-- lineal_service: the service's login role; a member of lineal_app that owns nothing.
CREATE ROLE lineal_app NOLOGIN;
CREATE ROLE lineal_service LOGIN PASSWORD 'lineal_service' IN ROLE lineal_app;
