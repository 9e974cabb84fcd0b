-- Least-privilege PostgreSQL roles for Gatehouse (docs/operations.md#database-roles).
--
--   gatehouse_owner  owns Gatehouse's schema and runs the migrations
--                    (DATABASE_MIGRATION_URL, `gatehouse migrate`).
--   gatehouse_app    the server's role (DATABASE_URL): reads and writes rows,
--                    never changes the schema. It cannot DROP, ALTER, CREATE
--                    or TRUNCATE tables, drop the schema, or create roles.
--
-- Neither is a superuser, and neither may create databases or roles.
--
-- Run it once with psql, as a superuser (or a role with CREATEROLE that may
-- create schemas in the database), connected to the database Gatehouse uses.
-- The two passwords are required variables: the script stops before creating
-- anything when one is missing, so no role ever gets a placeholder password.
--
--   psql -v ON_ERROR_STOP=1 -d gatehouse \
--        -v owner_password="$(cat /etc/gatehouse/owner.pw)" \
--        -v app_password="$(cat /etc/gatehouse/app.pw)" \
--        -f docs/sql/postgres-roles.sql
--
-- Optional variables (the defaults are the names used in the docs):
--   -v owner=gatehouse_owner  -v app=gatehouse_app  -v schema=gatehouse
--
-- Then, in this order:
--   1. DATABASE_MIGRATION_URL=postgres://gatehouse_owner:…@host/gatehouse?sslmode=verify-full
--      gatehouse migrate        (or let the server apply them at start)
--   2. DATABASE_URL=postgres://gatehouse_app:…@host/gatehouse?sslmode=verify-full
--      for the server. Both roles find the tables through the search_path
--      set below, so neither URL names the schema.
--
-- Running the script again fails at CREATE ROLE (the roles exist): change
-- passwords with ALTER ROLE … PASSWORD instead. The GRANT and ALTER DEFAULT
-- PRIVILEGES statements below may be re-run on their own at any time.

\set ON_ERROR_STOP on

-- A missing password stops the script here, with psql's exit status 3.
\if :{?owner_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'pass the owner role''s password: psql -v owner_password=...'; END $$;
\endif
\if :{?app_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'pass the app role''s password: psql -v app_password=...'; END $$;
\endif
\if :{?owner}
\else
  \set owner gatehouse_owner
\endif
\if :{?app}
\else
  \set app gatehouse_app
\endif
\if :{?schema}
\else
  \set schema gatehouse
\endif

BEGIN;

-- The two login roles. NOSUPERUSER, NOCREATEDB, NOCREATEROLE and
-- NOBYPASSRLS are PostgreSQL's defaults, spelled out so a reader need not
-- know them. Passwords are stored as SCRAM hashes (password_encryption).
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION;
CREATE ROLE :"app" LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION;

-- Both may connect to this database (psql's DBNAME: the one this script runs in).
GRANT CONNECT ON DATABASE :"DBNAME" TO :"owner", :"app";

-- Gatehouse's schema, owned by the owner role: it may create, alter and drop
-- tables there, which is what migrations do. Nobody else may create in it.
CREATE SCHEMA :"schema" AUTHORIZATION :"owner";
REVOKE ALL ON SCHEMA :"schema" FROM PUBLIC;

-- The app role may look tables up in the schema (USAGE), but not create any
-- (no CREATE on the schema).
GRANT USAGE ON SCHEMA :"schema" TO :"app";

-- Unqualified names resolve to the schema for both roles, so the URLs need no
-- search_path option and both roles see the same tables.
ALTER ROLE :"owner" SET search_path = :"schema";
ALTER ROLE :"app" SET search_path = :"schema";

-- Row privileges on what exists now (nothing, on a fresh schema; everything,
-- when the script's GRANTs are re-run after the owner has migrated). TRUNCATE,
-- REFERENCES and TRIGGER are not granted: Gatehouse deletes rows with DELETE
-- (a restore too), and never needs the others.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA :"schema" TO :"app";

-- The same privileges on every table and sequence the owner role creates
-- later, that is on everything a migration adds: no GRANT to re-run after an
-- upgrade. (Default privileges apply to objects created BY the named role, so
-- migrations must run as the owner role, not as a superuser.)
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA :"schema" GRANT USAGE, SELECT ON SEQUENCES TO :"app";

COMMIT;

-- Optional hardening, per database (it affects every role without an
-- explicit grant, so review it first): take the default CONNECT and
-- TEMPORARY privileges away from PUBLIC, and, before PostgreSQL 15, the
-- right of every role to create tables in the public schema.
--
--   REVOKE ALL ON DATABASE gatehouse FROM PUBLIC;
--   GRANT CONNECT ON DATABASE gatehouse TO gatehouse_owner, gatehouse_app;
--   REVOKE CREATE ON SCHEMA public FROM PUBLIC;
