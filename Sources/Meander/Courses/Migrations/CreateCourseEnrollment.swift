import FluentSQL

/// Creates `course_enrollments`.
struct CreateCourseEnrollment: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(CourseEnrollment.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("course_id", .uuid, .required, .references(Course.schema, "id", onDelete: .cascade))
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .field("enrolled_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("status", .string, .required)
            .field("waitlist_position", .int64)
            .field("completed_at", .datetime)
            .field("cancelled_at", .datetime)
            .unique(on: "course_id", "user_id")
            .check("status", in: CourseEnrollment.Status.self)
            .check(named: "ck_course_enrollments_waitlist", "waitlist_position IS NULL OR waitlist_position > 0")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(CourseEnrollment.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_course_enrollments_course_id_status", on: CourseEnrollment.schema, ["course_id", "status"]),
        SchemaIndex("idx_course_enrollments_user_id", on: CourseEnrollment.schema, ["user_id"]),
    ]
}
