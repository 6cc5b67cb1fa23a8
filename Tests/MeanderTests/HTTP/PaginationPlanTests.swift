import FluentKit
import Foundation
import SQLKit
import Testing
import Vapor

@testable import Meander

/// A later page of the activity list is read from the same indexes as the first (`ActivityListPlanTests`): the
/// keyset condition's leading bound (`occurred_at <= (SELECT …)`) is an index condition, not a filter over every row
/// before the cursor. Checked once: without that bound both plans lose the `occurred_at <= …` index condition.
@Suite("Pagination plans")
struct PaginationPlanTests {
    @Test(
        "a cursor page of a mentor's list and of an admin's list starts in the index at the cursor",
        .enabled(if: TestEngine.current == .postgres, "the planner's statistics are PostgreSQL's"))
    func cursorPagesSeekTheIndex() async throws {
        try await withTestApp { app in
            // given: a mentor's 1,000 activities among another mentor's 40,000, across the tree
            let tree = try await IdentityFixtures.tree(app)
            let mentor = try await IdentityFixtures.user(app, email: "kari@example.no", roles: [(.peerMentor, tree.chapterA1)])
            let other = try await IdentityFixtures.user(
                app, email: "ola@example.no", roles: [(.peerMentor, tree.chapterA1), (.peerMentor, tree.chapterB1)])
            let chapters = try [tree.chapterA1, tree.chapterA2, tree.chapterB1].map { try $0.requireID() }
            let type = try #require(try await ActivityType.query(on: app.db).filter(\.$key == "home_visit").first())
            let sql = try app.db.sqlDatabase()
            for (count, user, organizations) in [
                (1_000, try mentor.requireID(), [chapters[0]]), (40_000, try other.requireID(), chapters),
            ] {
                try await sql.raw(
                    """
                    INSERT INTO activities (id, created_at, updated_at, organization_id, mentor_id, registered_by_id,
                        activity_type_id, client_id, occurred_at, duration_minutes, participant_count, country_code, status,
                        counts_for_bufdir)
                    SELECT gen_random_uuid(), now(), now(), (\(bind: organizations))[1 + g % \(literal: organizations.count)],
                        \(bind: user), \(bind: user), \(bind: try type.requireID()), gen_random_uuid(),
                        timestamptz '2025-01-01' + g * interval '17 minutes', 60, 1, 'NO', 'registered', true
                    FROM generate_series(1, \(literal: count)) AS g
                    """
                ).run()
            }
            try await sql.raw("ANALYZE activities").run()
            struct Row: Decodable { var id: UUID }
            let cursor = try #require(
                try await sql.raw(
                    "SELECT id FROM activities WHERE mentor_id = \(bind: try mentor.requireID()) ORDER BY occurred_at DESC LIMIT 1 OFFSET 500"
                ).first(decoding: Row.self)
            ).id
            let keyset = Keyset.activities

            // when: the pages after the cursor, as GET /api/v1/activities reads them
            let mentorPage = try await Self.plan(
                sql,
                """
                SELECT * FROM activities
                WHERE (1 = 0 OR (organization_id IN (\(bind: chapters[0])) AND mentor_id = \(bind: try mentor.requireID())))
                AND (deleted_at IS NULL OR deleted_at > now()) AND \(keyset.after(cursor))
                ORDER BY \(keyset.orderBy) LIMIT 51
                """)
            let adminPage = try await Self.plan(
                sql,
                """
                SELECT * FROM activities
                WHERE organization_id IN (\(binds: chapters)) AND (deleted_at IS NULL OR deleted_at > now())
                AND \(keyset.after(cursor))
                ORDER BY \(keyset.orderBy) LIMIT 51
                """)

            // then
            #expect(mentorPage.contains("Index Scan Backward using idx_activities_mentor_id_occurred_at"), "\(mentorPage)")
            #expect(adminPage.contains("Index Scan Backward using idx_activities_occurred_at_id"), "\(adminPage)")
            for plan in [mentorPage, adminPage] {
                // no sort of every row after the cursor (the mentor index, without the id, sorts ties incrementally)
                #expect(!plan.contains("->  Sort"), "\(plan)")
                #expect(plan.contains("Index Cond:") && plan.contains("occurred_at <= "), "\(plan)")
            }
        }
    }

    /// The plan PostgreSQL chooses for a query, one line per node.
    private static func plan(_ sql: any SQLDatabase, _ query: SQLQueryString) async throws -> String {
        let rows = try await sql.raw("EXPLAIN (COSTS OFF) " + query).all()
        return try rows.map { try $0.decode(column: "QUERY PLAN", as: String.self) }.joined(separator: "\n")
    }
}
