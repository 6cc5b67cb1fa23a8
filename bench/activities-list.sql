-- The statements one `GET /api/v1/activities?limit=50` runs for a peer mentor (their newest page), for pgbench.
-- Variables: :uid (mentor), :sid (session), :org (chapter). See scripts/bench-activities.
SELECT * FROM sessions WHERE id = :sid;
SELECT * FROM users WHERE id = :uid;
SELECT * FROM organization_memberships WHERE user_id = :uid AND status IN ('active', 'paused');
SELECT * FROM user_roles WHERE user_id = :uid AND revoked_at IS NULL;
-- the reach: the subtree of the mentor's chapter (twice: permission check and mentor reach)
SELECT id FROM organizations WHERE parent_id IN (:org);
SELECT id FROM organizations WHERE parent_id IN (:org);
-- the page
SELECT * FROM activities
-- (Fluent writes an empty IN as 1 = 0: a mentor has no staff organisations)
WHERE deleted_at IS NULL AND (1 = 0 OR (organization_id IN (:org) AND mentor_id = :uid))
ORDER BY occurred_at DESC, id DESC LIMIT 51;
-- its evidence state
SELECT * FROM activity_types WHERE requires_evidence = true
    AND id IN (SELECT DISTINCT activity_type_id FROM activities WHERE mentor_id = :uid);
SELECT * FROM activity_attachments WHERE deleted_at IS NULL AND activity_id IN (
    SELECT id FROM activities WHERE mentor_id = :uid AND deleted_at IS NULL ORDER BY occurred_at DESC, id DESC LIMIT 50);
