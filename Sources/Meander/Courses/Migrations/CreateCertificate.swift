import FluentSQL

/// Creates `certificates`.
struct CreateCertificate: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Certificate.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .field("course_id", .uuid, .required, .references(Course.schema, "id", onDelete: .restrict))
            .field("enrollment_id", .uuid, .required, .references(CourseEnrollment.schema, "id", onDelete: .restrict))
            .field("revoked_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("number", .string, .required)
            .field("verification_code", .string, .required)
            .field("issued_at", .datetime, .required)
            .field("valid_until", .datetime)
            .field("revoked_at", .datetime)
            .field("revoked_reason", .string)
            .field("expiry_reminder_sent_at", .datetime)
            .unique(on: "number")
            .unique(on: "verification_code")
            .unique(on: "enrollment_id")
            .check(named: "ck_certificates_validity", "valid_until IS NULL OR valid_until >= issued_at")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(Certificate.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_certificates_user_id", on: Certificate.schema, ["user_id"]),
        SchemaIndex("idx_certificates_valid_until", on: Certificate.schema, ["valid_until"]),
    ]
}
