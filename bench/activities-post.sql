-- The statements one `POST /api/v1/activities` runs (a mentor logging a home visit in their chapter), for pgbench.
-- Variables: :uid (mentor), :sid (session), :org (chapter), :tid (activity type). See scripts/bench-activities.
-- access: session, user, memberships, roles
SELECT * FROM sessions WHERE id = :sid;
SELECT * FROM users WHERE id = :uid;
SELECT * FROM organization_memberships WHERE user_id = :uid AND status IN ('active', 'paused');
SELECT * FROM user_roles WHERE user_id = :uid AND revoked_at IS NULL;
-- the chapter's lineage (chapter, region, national)
SELECT * FROM organizations WHERE id = :org;
SELECT * FROM organizations WHERE id = (SELECT parent_id FROM organizations WHERE id = :org);
SELECT * FROM organizations WHERE id = (SELECT parent_id FROM organizations WHERE id = (SELECT parent_id FROM organizations WHERE id = :org));
-- the type, the year's counting rules, the client-id check
SELECT * FROM activity_types WHERE id = :tid;
SELECT * FROM bufdir_counting_rules WHERE reporting_year = 2025;
-- (a client id that is not there yet, as for a new activity; a constant so that the unique index is used)
SELECT * FROM activities WHERE organization_id = :org AND client_id = '00000000-0000-4000-8000-000000000000';
-- the insert and the audit append, in one transaction under the chain lock
BEGIN;
INSERT INTO activities (id, created_at, updated_at, organization_id, mentor_id, registered_by_id, activity_type_id,
    client_id, occurred_at, duration_minutes, participant_count, channel, country_code, summary_ciphertext,
    key_version, status, counts_for_bufdir)
VALUES (gen_random_uuid(), now(), now(), :org, :uid, :uid, :tid, gen_random_uuid(), '2025-10-01T10:00:00Z',
    60, 1, NULL, 'NO', decode(md5(random()::text) || md5(random()::text), 'hex'), 1, 'registered', true);
SELECT pg_advisory_xact_lock(5567928318722134529);
SELECT * FROM audit_log_entries ORDER BY sequence DESC LIMIT 1;
SELECT * FROM audit_chain_heads WHERE id = 1;
INSERT INTO audit_log_entries (id, sequence, created_at, actor_user_id, session_id, organization_id, target_id,
    action, target_type, outcome, client, ip, user_agent, metadata, previous_hash, hash)
SELECT gen_random_uuid(), h.sequence + 1, now(), :uid, :sid, :org, gen_random_uuid(), 'activity.created',
    'activity', 'success', 'api', '127.0.0.1', 'pgbench', '{}', h.hash,
    encode(sha256(convert_to(h.hash || (h.sequence + 1)::text, 'UTF8')), 'hex')
FROM audit_chain_heads h WHERE h.id = 1;
UPDATE audit_chain_heads SET sequence = sequence + 1,
    hash = (SELECT hash FROM audit_log_entries ORDER BY sequence DESC LIMIT 1) WHERE id = 1;
COMMIT;
-- the answer's evidence state
SELECT * FROM activity_types WHERE id IN (:tid) AND requires_evidence = true;
SELECT * FROM activity_attachments WHERE activity_id IN ('00000000-0000-4000-8000-000000000000') AND deleted_at IS NULL;
