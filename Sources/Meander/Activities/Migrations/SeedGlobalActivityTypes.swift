import FluentSQL
import Foundation

/// Inserts the global activity taxonomy (organisation NULL) with stable keys.
///
/// Written with SQLKit and explicit columns, not through the `ActivityType` model, so that it keeps working on a
/// fresh database after later migrations add columns to the model.
struct SeedGlobalActivityTypes: AsyncMigration {
    struct Row: Sendable {
        let key: String
        let nameNb: String
        let nameEn: String
        let category: ActivityType.BufdirCategory
        let reportable: Bool
        let requiresEvidence: Bool
        let defaultDurationMinutes: Int
        let sortOrder: Int
    }

    static let rows: [Row] = [
        Row(
            key: "home_visit", nameNb: "Hjemmebesøk", nameEn: "Home visit", category: .oneToOne,
            reportable: true, requiresEvidence: false, defaultDurationMinutes: 90, sortOrder: 10),
        Row(
            key: "phone_call", nameNb: "Telefonsamtale", nameEn: "Phone call", category: .oneToOne,
            reportable: true, requiresEvidence: false, defaultDurationMinutes: 30, sortOrder: 20),
        Row(
            key: "video_call", nameNb: "Videosamtale", nameEn: "Video call", category: .oneToOne,
            reportable: true, requiresEvidence: false, defaultDurationMinutes: 45, sortOrder: 30),
        Row(
            key: "group_meeting", nameNb: "Gruppemøte", nameEn: "Group meeting", category: .group,
            reportable: true, requiresEvidence: true, defaultDurationMinutes: 120, sortOrder: 40),
        Row(
            key: "escort_to_appointment", nameNb: "Følge til avtale", nameEn: "Escort to appointment",
            category: .oneToOne, reportable: true, requiresEvidence: false, defaultDurationMinutes: 180, sortOrder: 50),
        Row(
            key: "information_stand", nameNb: "Informasjonsstand", nameEn: "Information stand", category: .information,
            reportable: true, requiresEvidence: true, defaultDurationMinutes: 180, sortOrder: 60),
        Row(
            key: "course_day", nameNb: "Kursdag", nameEn: "Course day", category: .course,
            reportable: true, requiresEvidence: true, defaultDurationMinutes: 360, sortOrder: 70),
        Row(
            key: "mentor_training", nameNb: "Likepersonopplæring", nameEn: "Peer mentor training",
            category: .course, reportable: true, requiresEvidence: true, defaultDurationMinutes: 180, sortOrder: 80),
        Row(
            key: "event_participation", nameNb: "Deltakelse på arrangement", nameEn: "Event participation",
            category: .event, reportable: true, requiresEvidence: false, defaultDurationMinutes: 120, sortOrder: 90),
        Row(
            key: "digital_message", nameNb: "Digital melding", nameEn: "Digital message", category: .oneToOne,
            reportable: false, requiresEvidence: false, defaultDurationMinutes: 15, sortOrder: 100),
    ]

    func prepare(on database: any Database) async throws {
        let sql = try database.sqlDatabase()
        let now = Date()
        for row in Self.rows {
            try await sql.insert(into: ActivityType.schema)
                .columns(
                    "id", "created_at", "updated_at", "organization_id", "key", "name_nb", "name_en",
                    "bufdir_category", "reportable", "requires_evidence", "default_duration_minutes", "is_active",
                    "sort_order"
                )
                .values(
                    SQLBind(UUID()), SQLBind(now), SQLBind(now), SQLLiteral.null, SQLBind(row.key),
                    SQLBind(row.nameNb), SQLBind(row.nameEn), SQLBind(row.category.rawValue),
                    SQLBind(row.reportable), SQLBind(row.requiresEvidence), SQLBind(row.defaultDurationMinutes),
                    SQLBind(true), SQLBind(row.sortOrder)
                )
                .run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.sqlDatabase().delete(from: ActivityType.schema)
            .where(SQLColumn("organization_id"), .is, SQLLiteral.null)
            .where("key", .in, Self.rows.map(\.key))
            .run()
    }
}
