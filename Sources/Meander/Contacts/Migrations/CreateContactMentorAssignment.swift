import FluentSQL

/// Creates `contact_mentor_assignments`.
struct CreateContactMentorAssignment: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ContactMentorAssignment.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("contact_id", .uuid, .required, .references(Contact.schema, "id", onDelete: .cascade))
            .field("mentor_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .field("assigned_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("assigned_at", .datetime, .required)
            .field("unassigned_at", .datetime)
            .check(
                named: "ck_contact_mentor_assignments_period",
                "unassigned_at IS NULL OR unassigned_at >= assigned_at"
            )
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(ContactMentorAssignment.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_contact_mentor_assignments_mentor_id", on: ContactMentorAssignment.schema, ["mentor_id"]),
        SchemaIndex(
            "uq_contact_mentor_assignments_open", on: ContactMentorAssignment.schema, ["contact_id", "mentor_id"],
            unique: true, where: "unassigned_at IS NULL"
        ),
    ]
}
