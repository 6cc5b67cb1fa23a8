import FluentSQL

/// Creates `courses`.
struct CreateCourse: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Course.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("deleted_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("created_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("title", .string, .required)
            .field("details", .string)
            .field("starts_at", .datetime, .required)
            .field("ends_at", .datetime, .required)
            .field("schedule", .string)
            .field("place", .string)
            .field("is_online", .bool, .required)
            .field("capacity", .int64)
            .field("enrollment_deadline", .datetime)
            .field("status", .string, .required)
            .field("issues_certificate", .bool, .required)
            .field("certificate_validity_months", .int64)
            .check("status", in: Course.Status.self)
            .check(named: "ck_courses_period", "ends_at >= starts_at")
            .check(named: "ck_courses_capacity", "capacity IS NULL OR capacity > 0")
            .check(
                named: "ck_courses_validity",
                "certificate_validity_months IS NULL OR certificate_validity_months > 0"
            )
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(Course.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_courses_organization_id_starts_at", on: Course.schema, ["organization_id", "starts_at"])
    ]
}
