import FluentKit
import FluentSQL
import Foundation
import PostgresNIO

// The activities capability's own statements: those of the logging path, prepared per connection on PostgreSQL
// (see `SharedStatement`), and the conditional updates of its transitions. Only `Activities` runs them.

/// One activity type by id.
struct ActivityTypeStatement: SharedStatement {
    static let name = "meander.activity_type"

    typealias Row = ActivityType

    static let sql = "SELECT \(ActivityType.plainColumns) FROM activity_types WHERE id = $1"

    let id: UUID

    var values: [StatementValue] { [.uuid(id)] }

    static func decode(_ row: any SQLRow) throws -> ActivityType {
        try ActivityType(plainRow: row)
    }
}

/// The id of the activity an upload with this client id made in the organisation, deleted or not.
struct ActivityByClientIDStatement: SharedStatement {
    static let name = "meander.activity_by_client_id"

    typealias Row = UUID

    static let sql = "SELECT id FROM activities WHERE organization_id = $1 AND client_id = $2"

    let organizationID: UUID
    let clientID: UUID

    var values: [StatementValue] { [.uuid(organizationID), .uuid(clientID)] }

    static func decode(_ row: any SQLRow) throws -> UUID {
        try row.decode(column: "id", as: UUID.self)
    }
}

/// A new activity, unless the organisation has one with its client id or the day lies in a closed Bufdir period of
/// its lineage (`Activities.insert`): the new id, or no row. The closed-period check rides along in the insert
/// (a round trip fewer on every upload); only when nothing was written is it asked on its own, to tell which.
struct InsertActivityStatement: SharedStatement {
    static let name = "meander.insert_activity"

    typealias Row = UUID

    static let sql = """
        INSERT INTO activities (id, created_at, updated_at, organization_id, mentor_id, registered_by_id,
            contact_id, activity_type_id, client_id, occurred_at, duration_minutes, participant_count, place,
            channel, country_code, municipality_code, summary_ciphertext, key_version, status, counts_for_bufdir,
            bufdir_reason)
        SELECT $1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20
        WHERE NOT EXISTS (
            SELECT 1 FROM bufdir_reports WHERE \(ClosedPeriodStatement.condition(firstParameter: 21))
        )
        ON CONFLICT (organization_id, client_id) DO NOTHING
        RETURNING id
        """

    let activity: Activity
    let now: Date
    /// The organisation's lineage, nearest first.
    let lineageIDs: [UUID]

    var values: [StatementValue] {
        [
            .uuid(activity.id), .time(now), .uuid(activity.$organization.id), .uuid(activity.$mentor.id),
            .uuid(activity.$registeredBy.id), .uuid(activity.$contact.id), .uuid(activity.$activityType.id),
            .uuid(activity.clientID), .time(activity.occurredAt), .integer(activity.durationMinutes),
            .integer(activity.participantCount), .text(activity.place), .text(activity.channel?.rawValue),
            .text(activity.countryCode), .text(activity.municipalityCode), .bytes(activity.summaryCiphertext),
            .integer(activity.keyVersion), .text(activity.status.rawValue), .flag(activity.countsForBufdir),
            .text(activity.bufdirReason),
        ] + ClosedPeriodStatement.values(lineageIDs, day: ClosedPeriods.day(of: activity.occurredAt))
    }

    static func decode(_ row: any SQLRow) throws -> UUID {
        try row.decode(column: "id", as: UUID.self)
    }
}

/// The conditional updates of an activity's review: each changes a registered, undeleted activity or nothing, so
/// that of two racing reviewers exactly one wins.
enum ActivitySQL {
    static func approve(_ id: UUID, by reviewerID: UUID, at now: Date, on db: any Database) async throws -> Bool {
        try await !db.sqlDatabase().raw(
            """
            UPDATE activities SET status = 'approved', approved_at = \(bind: now),
                approved_by_id = \(bind: reviewerID), updated_at = \(bind: now)
            WHERE id = \(bind: id) AND status = 'registered' AND deleted_at IS NULL RETURNING id
            """
        ).all().isEmpty
    }

    static func reject(_ id: UUID, reason: String?, at now: Date, on db: any Database) async throws -> Bool {
        try await !db.sqlDatabase().raw(
            """
            UPDATE activities SET status = 'rejected', rejection_reason = \(bind: reason),
                counts_for_bufdir = \(bind: false), bufdir_reason = 'rejected', updated_at = \(bind: now)
            WHERE id = \(bind: id) AND status = 'registered' AND deleted_at IS NULL RETURNING id
            """
        ).all().isEmpty
    }

    /// Sets `updated_at` to the app's time after a save through Fluent, which stamps the machine's.
    static func touch(_ id: UUID, at now: Date, on db: any Database) async throws {
        try await db.sqlDatabase().raw("UPDATE activities SET updated_at = \(bind: now) WHERE id = \(bind: id)").run()
    }
}
