-- +goose Up
-- The audit chain only grows: an event, once appended, is neither changed nor
-- removed. Nothing in countersign updates or deletes audit_events, so these
-- triggers refuse what only a mistake or an attack would do. They stop the
-- table's owner too, who can still switch them off (ALTER TABLE ... DISABLE
-- TRIGGER); that is why the application should not run as the owner (below),
-- and what signed checkpoints (countersign audit checkpoint) detect.
--
-- audit_strata and audit_draws are the audit sampler's bookkeeping, not the
-- log: a stratum's row is updated on every draw, and every draw is also in
-- the log. They stay ordinary tables.
-- +goose StatementBegin
CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        RAISE EXCEPTION 'audit_events is append-only: % of audit event % refused', TG_OP, OLD.seq
            USING HINT = 'The audit log can only grow; nothing may change or remove an event.';
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING HINT = 'The audit log can only grow; nothing may change or remove an event.';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_events_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- countersign_app is the role the worker and API should run as (through a
-- login role that is a member of it): it may read and write every table, but
-- only read and append to audit_events, and as it owns nothing it can neither
-- alter a table nor switch off a trigger. Migrations run as the owner. Tables
-- that later migrations create (as the same owner) are granted to it by
-- default privileges.
--
-- Roles belong to the server, not the database: the role is created unless
-- it exists. A migration user without CREATEROLE cannot create it, which
-- does not stop the migration: the role and its grants are skipped with a
-- notice, and a DBA who wants the separation creates the role and grants
-- as the README says.
-- +goose StatementBegin
DO $$
DECLARE
    schema text := quote_ident(current_schema());
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'countersign_app') THEN
        BEGIN
            CREATE ROLE countersign_app NOLOGIN;
        EXCEPTION
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'role countersign_app not created (% lacks CREATEROLE): the application keeps running as the owner; see the README, "Production", to add the role later', current_user;
                RETURN;
            -- Another database on the same server migrating at the same time.
            WHEN duplicate_object OR unique_violation THEN
                NULL;
        END;
    END IF;
    EXECUTE 'GRANT USAGE ON SCHEMA ' || schema || ' TO countersign_app';
    EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ' || schema || ' TO countersign_app';
    EXECUTE 'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ' || schema || ' TO countersign_app';
    EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA ' || schema || ' GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO countersign_app';
    EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA ' || schema || ' GRANT USAGE, SELECT ON SEQUENCES TO countersign_app';
    REVOKE UPDATE, DELETE ON audit_events FROM countersign_app;
    -- The application checks on start that no migration is pending.
    REVOKE INSERT, UPDATE, DELETE ON goose_db_version FROM countersign_app;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- The role stays: it belongs to the server, and other databases may use it.
-- +goose StatementBegin
DO $$
DECLARE
    schema text := quote_ident(current_schema());
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'countersign_app') THEN
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA ' || schema || ' REVOKE ALL ON SEQUENCES FROM countersign_app';
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA ' || schema || ' REVOKE ALL ON TABLES FROM countersign_app';
        EXECUTE 'REVOKE ALL ON ALL SEQUENCES IN SCHEMA ' || schema || ' FROM countersign_app';
        EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA ' || schema || ' FROM countersign_app';
        EXECUTE 'REVOKE USAGE ON SCHEMA ' || schema || ' FROM countersign_app';
    END IF;
END
$$;
-- +goose StatementEnd
DROP TRIGGER audit_events_no_truncate ON audit_events;
DROP TRIGGER audit_events_no_update_delete ON audit_events;
DROP FUNCTION audit_events_append_only();
