-- The statements one `POST /api/v1/activities` runs (a mentor logging a home visit in their chapter), for pgbench.
-- Variables: :uid (mentor), :sid (session), :org (chapter), :tid (activity type), :l1 … :l16 (the chapter's lineage,
-- padded). See scripts/bench-activities.
-- access: the session, its user and the live grants in one query (Principal.loadWithSession, in the authentication
-- middleware, on a connection of its own)
SELECT s.revoked_at, s.expires_at, s.last_seen_at, u.status, r.role, r.organization_id, m.status
FROM sessions s JOIN users u ON u.id = s.user_id
LEFT JOIN user_roles r ON r.user_id = s.user_id AND r.revoked_at IS NULL
LEFT JOIN organization_memberships m ON m.user_id = s.user_id AND m.organization_id = r.organization_id
WHERE s.id = :sid AND s.user_id = :uid
UNION ALL
SELECT s.revoked_at, s.expires_at, s.last_seen_at, u.status, NULL, m.organization_id, m.status
FROM sessions s JOIN users u ON u.id = s.user_id
JOIN organization_memberships m ON m.user_id = s.user_id AND m.status = 'paused'
WHERE s.id = :sid AND s.user_id = :uid;
-- the handler's statements, from the lineage to the audit append, run in one transaction on one connection
-- (ActivityLogging.create, Database.requestTransaction)
BEGIN;
-- the chapter's lineage in one recursive query (OrganizationTree.lineage)
WITH RECURSIVE chain(id, depth) AS (
    SELECT id, 0 FROM organizations WHERE id = :org
    UNION ALL
    SELECT o.parent_id, c.depth + 1 FROM organizations o JOIN chain c ON o.id = c.id
    WHERE o.parent_id IS NOT NULL AND c.depth < 15
)
SELECT o.* FROM organizations o JOIN chain c ON o.id = c.id ORDER BY c.depth;
-- the type and the year's counting rules
SELECT id, created_at, updated_at, organization_id, key, name_nb, name_en, bufdir_category, reportable,
    requires_evidence, default_duration_minutes, is_active, sort_order FROM activity_types WHERE id = :tid;
SELECT rule_key, parameters FROM bufdir_counting_rules WHERE reporting_year = 2025;
-- the insert, which is also the client-id check (a client id used before inserts nothing, and the handler then
-- reads the original instead) and the closed-period check (a day in a finalised Bufdir period of the lineage inserts
-- nothing: the lineage in 16 parameters, unused ones a UUID no organisation has, as the app binds NULL); then the
-- audit append, which moves the checkpoint row on (its row lock serialises appenders until the commit) and inserts
-- the entry in one statement (AuditLog.append)
INSERT INTO activities (id, created_at, updated_at, organization_id, mentor_id, registered_by_id,
    contact_id, activity_type_id, client_id, occurred_at, duration_minutes, participant_count, place,
    channel, country_code, municipality_code, summary_ciphertext, key_version, status, counts_for_bufdir,
    bufdir_reason)
SELECT gen_random_uuid(), now(), now(), :org, :uid, :uid, NULL, :tid, gen_random_uuid(), '2025-10-01T10:00:00Z',
    60, 1, NULL, NULL, 'NO', NULL, decode(md5(random()::text) || md5(random()::text), 'hex'), 1, 'registered', true,
    NULL
WHERE NOT EXISTS (
    SELECT 1 FROM bufdir_reports
    WHERE organization_id IN (:l1, :l2, :l3, :l4, :l5, :l6, :l7, :l8, :l9, :l10, :l11, :l12, :l13, :l14, :l15, :l16)
        AND status IN ('finalized', 'submitted') AND period_start <= '2025-10-01' AND period_end >= '2025-10-01'
)
ON CONFLICT (organization_id, client_id) DO NOTHING
RETURNING id;
WITH head AS (
    UPDATE audit_chain_heads SET sequence = sequence + 1, previous_hash = hash,
        hash = encode(sha256(convert_to(hash || 'v1' || chr(31) || (sequence + 1)::text || chr(31) || 'pgbench',
            'UTF8')), 'hex')
    WHERE id = 1
    RETURNING sequence, previous_hash, hash
)
INSERT INTO audit_log_entries (id, sequence, created_at, actor_user_id, session_id, organization_id, target_id,
    action, target_type, outcome, client, ip, user_agent, metadata, previous_hash, hash)
SELECT gen_random_uuid(), head.sequence, now(), :uid, :sid, :org, gen_random_uuid(), 'activity.created',
    'activity', 'success', 'api', '127.0.0.1', 'pgbench', '{}', head.previous_hash, head.hash
FROM head
RETURNING sequence, previous_hash, hash;
COMMIT;
-- the answer's evidence state needs no query: a new activity has no attachments, and its type was read above
