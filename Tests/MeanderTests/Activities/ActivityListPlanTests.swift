import FluentKit
import Foundation
import SQLKit
import Testing
import Vapor

@testable import Meander

/// The activity list's newest page is read from an index, however many activities lie in reach
/// (`UpdateActivityListIndexes`).
@Suite("Activity list plans")
struct ActivityListPlanTests {
    @Test(
        "a page of a mentor's list or an admin's list walks an index backwards instead of sorting every row",
        .enabled(if: TestEngine.current == .postgres, "the planner's statistics are PostgreSQL's"))
    func pagesComeFromAnIndex() async throws {
        try await withTestApp { app in
            // given: a mentor's 1,000 activities in chapter A1, among another mentor's 60,000 across the tree,
            // 5,000 of them in A1 too
            let tree = try await IdentityFixtures.tree(app)
            let mentor = try await IdentityFixtures.user(
                app, email: "kari@example.no", roles: [(.peerMentor, tree.chapterA1)])
            let other = try await IdentityFixtures.user(
                app, email: "ola@example.no",
                roles: [(.peerMentor, tree.chapterA1), (.peerMentor, tree.chapterA2), (.peerMentor, tree.chapterB1)])
            let chapters = try [tree.chapterA1, tree.chapterA2, tree.chapterB1, tree.regionA, tree.regionB]
                .map { try $0.requireID() }
            let type = try #require(try await ActivityType.query(on: app.db).filter(\.$key == "home_visit").first())
            let sql = try app.db.sqlDatabase()
            try await Self.insert(1_000, by: try mentor.requireID(), in: [chapters[0]], type: try type.requireID(), sql)
            try await Self.insert(5_000, by: try other.requireID(), in: [chapters[0]], type: try type.requireID(), sql)
            try await Self.insert(55_000, by: try other.requireID(), in: chapters.dropFirst(), type: try type.requireID(), sql)
            try await sql.raw("ANALYZE activities").run()

            // when: the pages GET /api/v1/activities reads for the mentor, and for an admin of the whole tree
            let mentorPage = try await Self.plan(
                sql,
                """
                SELECT * FROM activities
                WHERE (1 = 0 OR (organization_id IN (\(bind: chapters[0])) AND mentor_id = \(bind: try mentor.requireID())))
                AND (deleted_at IS NULL OR deleted_at > now())
                ORDER BY occurred_at DESC, id DESC LIMIT 51
                """)
            let adminPage = try await Self.plan(
                sql,
                """
                SELECT * FROM activities
                WHERE organization_id IN (\(binds: chapters)) AND (deleted_at IS NULL OR deleted_at > now())
                ORDER BY occurred_at DESC, id DESC LIMIT 51
                """)

            // then
            #expect(mentorPage.contains("Index Scan Backward using idx_activities_mentor_id_occurred_at"), "\(mentorPage)")
            #expect(!mentorPage.contains("Bitmap"), "\(mentorPage)")
            #expect(adminPage.contains("Index Scan Backward using idx_activities_occurred_at_id"), "\(adminPage)")
        }
    }

    /// `count` registered activities of `mentor`, round the organisations, 17 minutes apart.
    private static func insert(
        _ count: Int, by mentor: UUID, in organizations: some Collection<UUID>, type: UUID, _ sql: any SQLDatabase
    ) async throws {
        try await sql.raw(
            """
            INSERT INTO activities (id, created_at, updated_at, organization_id, mentor_id, registered_by_id,
                activity_type_id, client_id, occurred_at, duration_minutes, participant_count, country_code, status,
                counts_for_bufdir)
            SELECT gen_random_uuid(), now(), now(), (\(bind: Array(organizations)))[1 + g % \(literal: organizations.count)],
                \(bind: mentor), \(bind: mentor), \(bind: type), gen_random_uuid(),
                timestamptz '2025-01-01' + g * interval '17 minutes', 60, 1, 'NO', 'registered', true
            FROM generate_series(1, \(literal: count)) AS g
            """
        ).run()
    }

    /// The plan PostgreSQL chooses for a query, one line per node.
    private static func plan(_ sql: any SQLDatabase, _ query: SQLQueryString) async throws -> String {
        let rows = try await sql.raw("EXPLAIN (COSTS OFF) " + query).all()
        return try rows.map { try $0.decode(column: "QUERY PLAN", as: String.self) }.joined(separator: "\n")
    }
}
