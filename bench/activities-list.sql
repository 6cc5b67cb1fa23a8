-- The statements one `GET /api/v1/activities?limit=50` runs for a peer mentor (their newest page), for pgbench.
-- Variables: :uid (mentor), :sid (session), :org (chapter). See scripts/bench-activities.
-- access: the session, its user and the live grants in one query (Principal.loadWithSession)
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
-- the reach: the subtree of the mentor's chapter (twice: permission check and mentor reach)
SELECT id FROM organizations WHERE parent_id IN (:org);
SELECT id FROM organizations WHERE parent_id IN (:org);
-- the page (Fluent adds the soft-delete condition with the time of the request); the ORDER BY is Keyset.activities' own
-- (a later page adds its condition: "activities"."occurred_at" <= (SELECT occurred_at FROM activities WHERE id = $c)
-- AND (… < … OR (… = … AND id < $c)), which PaginationPlanTests checks seeks the same index)
SELECT * FROM activities
-- (Fluent writes an empty IN as 1 = 0: a mentor has no staff organisations)
WHERE (1 = 0 OR (organization_id IN (:org) AND mentor_id = :uid)) AND (deleted_at IS NULL OR deleted_at > now())
ORDER BY "activities"."occurred_at" DESC, "activities"."id" DESC LIMIT 51;
-- its evidence state: the app names the page's types and ids in IN lists; here the page is read again inside
SELECT * FROM activity_types WHERE requires_evidence = true AND id IN (
    SELECT activity_type_id FROM activities WHERE organization_id IN (:org) AND mentor_id = :uid
    AND (deleted_at IS NULL OR deleted_at > now()) ORDER BY occurred_at DESC, id DESC LIMIT 50);
SELECT * FROM activity_attachments WHERE (deleted_at IS NULL OR deleted_at > now()) AND activity_id IN (
    SELECT id FROM activities WHERE organization_id IN (:org) AND mentor_id = :uid
    AND (deleted_at IS NULL OR deleted_at > now()) ORDER BY occurred_at DESC, id DESC LIMIT 50);
