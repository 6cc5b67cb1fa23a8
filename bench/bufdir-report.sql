-- The SQL that BufdirReportEngine.compute (Sources/Meander/Reporting/BufdirReportEngine.swift) runs for one report,
-- as the bare baseline of scripts/bench-bufdir. Keep it in step with the engine.
--
-- Variables, substituted as text by psql (-v) and pgbench (-D, simple protocol), so pass them already quoted:
--   :root   the report's organisation: 'uuid'
--   :orgs   it and every organisation below it: 'uuid','uuid',...  (the engine binds the same list)
--   :from   the first instant of the period in Norway, a timestamptz literal: '2024-12-31 23:00:00+00'
--   :until  the first instant after the period in Norway
--   :year   the reporting year (the counting rules' year)
--
--   psql -X -q -v root="'…'" -v orgs="'…','…'" -v from="'2024-12-31 23:00:00+00'" -v until="'2025-12-31 23:00:00+00'" -v year=2025 \
--       -f bench/bufdir-report.sql "$DATABASE_URL"
--
-- The file is in parts, each starting at a `-- part: NAME` line. The engine runs `scope` first, then `activities`,
-- `people_by_organization` and `people_by_county` at once on three pooled connections while `facts` runs on a
-- fourth; scripts/bench-bufdir times the whole file in order (pgbench) and the parts the engine's way (psql).
-- The literals in place of the engine's bind parameters give PostgreSQL the same custom plans (PostgresNIO sends
-- unnamed statements over the extended protocol, planned with the actual values).

-- part: scope
-- OrganizationTree.subtreeIDs: one query per level, until a level finds no new organisation (here the root's
-- children, then theirs, which the whole list stands in for).
SELECT id FROM organizations WHERE parent_id IN (:root);
SELECT id FROM organizations WHERE parent_id IN (:orgs);
-- BufdirRules.load
SELECT * FROM bufdir_counting_rules WHERE reporting_year = :year;

-- part: activities
-- BufdirReportEngine.activityRows: one row per (organisation, county, category); activity days come from the inner
-- grouping per mentor and day in Norway.
-- As the engine runs it: in a transaction with JIT off (BufdirReportEngine.aggregating).
BEGIN;
SET LOCAL jit = off;
SELECT s.organization_id AS organization_id, s.county AS county, s.category AS category,
    CAST(SUM(s.n) AS BIGINT) AS activities, CAST(SUM(s.minutes) AS BIGINT) AS minutes,
    CAST(SUM(s.participants) AS BIGINT) AS participants, COUNT(*) AS days,
    CAST(SUM(s.needs) AS BIGINT) AS evidence_required, CAST(SUM(s.missing) AS BIGINT) AS evidence_missing
FROM (
    SELECT a.organization_id AS organization_id, COALESCE(substr(a.municipality_code, 1, 2), 'unknown') AS county,
        t.bufdir_category AS category, a.mentor_id AS mentor_id,
        CAST(a.occurred_at AT TIME ZONE 'Europe/Oslo' AS DATE) AS day, COUNT(*) AS n,
        SUM(a.duration_minutes) AS minutes, SUM(a.participant_count) AS participants,
        SUM(CASE WHEN t.requires_evidence THEN 1 ELSE 0 END) AS needs,
        SUM(CASE WHEN t.requires_evidence AND NOT EXISTS (
            SELECT 1 FROM activity_attachments x WHERE x.activity_id = a.id AND x.deleted_at IS NULL
        ) THEN 1 ELSE 0 END) AS missing
    FROM activities a JOIN activity_types t ON t.id = a.activity_type_id
    WHERE a.organization_id IN (:orgs) AND a.deleted_at IS NULL AND a.counts_for_bufdir = true
        AND a.status IN ('registered', 'approved') AND a.occurred_at >= :from AND a.occurred_at < :until
    GROUP BY a.organization_id, COALESCE(substr(a.municipality_code, 1, 2), 'unknown'), t.bufdir_category, a.mentor_id,
        CAST(a.occurred_at AT TIME ZONE 'Europe/Oslo' AS DATE)
) s
GROUP BY s.organization_id, s.county, s.category;
COMMIT;

-- part: people_by_organization
-- BufdirReportEngine.peopleRows grouped by organisation
-- As the engine runs it: in a transaction with JIT off (BufdirReportEngine.aggregating).
BEGIN;
SET LOCAL jit = off;
SELECT a.organization_id AS key, COUNT(DISTINCT a.contact_id) AS contacts, COUNT(DISTINCT a.mentor_id) AS mentors
FROM activities a
WHERE a.organization_id IN (:orgs) AND a.deleted_at IS NULL AND a.counts_for_bufdir = true
    AND a.status IN ('registered', 'approved') AND a.occurred_at >= :from AND a.occurred_at < :until
GROUP BY a.organization_id;
COMMIT;

-- part: people_by_county
-- BufdirReportEngine.peopleRows grouped by county
-- As the engine runs it: in a transaction with JIT off (BufdirReportEngine.aggregating).
BEGIN;
SET LOCAL jit = off;
SELECT COALESCE(substr(a.municipality_code, 1, 2), 'unknown') AS key, COUNT(DISTINCT a.contact_id) AS contacts,
    COUNT(DISTINCT a.mentor_id) AS mentors
FROM activities a
WHERE a.organization_id IN (:orgs) AND a.deleted_at IS NULL AND a.counts_for_bufdir = true
    AND a.status IN ('registered', 'approved') AND a.occurred_at >= :from AND a.occurred_at < :until
GROUP BY COALESCE(substr(a.municipality_code, 1, 2), 'unknown');
COMMIT;

-- part: facts
-- BufdirReportEngine.factRows: registered mentors, mentors trained, members, events, course days; then the tree's nodes.
SELECT r.organization_id AS organization_id, COUNT(DISTINCT r.user_id) AS n FROM user_roles r
WHERE r.organization_id IN (:orgs) AND r.role = 'peer_mentor' AND r.granted_at < :until
    AND (r.revoked_at IS NULL OR r.revoked_at >= :from)
GROUP BY r.organization_id;

SELECT r.organization_id AS organization_id, COUNT(DISTINCT r.user_id) AS n
FROM user_roles r JOIN course_enrollments e ON e.user_id = r.user_id
WHERE r.organization_id IN (:orgs) AND r.role = 'peer_mentor' AND r.granted_at < :until
    AND (r.revoked_at IS NULL OR r.revoked_at >= :from)
    AND e.status = 'completed' AND e.completed_at >= :from AND e.completed_at < :until
GROUP BY r.organization_id;

SELECT m.organization_id AS organization_id, COUNT(*) AS n FROM organization_memberships m
WHERE m.organization_id IN (:orgs) AND m.status <> 'invited' AND m.joined_at IS NOT NULL
    AND m.joined_at < :until AND (m.ended_at IS NULL OR m.ended_at >= :from)
GROUP BY m.organization_id;

SELECT e.organization_id AS organization_id, COUNT(*) AS n FROM events e
WHERE e.organization_id IN (:orgs) AND e.deleted_at IS NULL
    AND e.status IN ('published', 'completed') AND e.counts_for_bufdir = true
    AND e.starts_at >= :from AND e.starts_at < :until
GROUP BY e.organization_id;

SELECT c.organization_id AS organization_id, c.starts_at AS starts_at, c.ends_at AS ends_at FROM courses c
WHERE c.organization_id IN (:orgs) AND c.deleted_at IS NULL AND c.status IN ('published', 'completed')
    AND c.starts_at >= :from AND c.starts_at < :until;

SELECT * FROM organizations WHERE id IN (:orgs);
