import FluentSQL

/// Creates `referrals`.
struct CreateReferral: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Referral.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("created_by_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .field("code", .string, .required)
            .field("channel", .string, .required)
            .field("expires_at", .datetime)
            .field("max_uses", .int64)
            .field("use_count", .int64, .required, .sql(.default(0)))
            .field("signup_count", .int64, .required, .sql(.default(0)))
            .field("first_activity_count", .int64, .required, .sql(.default(0)))
            .field("revoked_at", .datetime)
            .unique(on: "code")
            .check("channel", in: Referral.Channel.self)
            .check(
                named: "ck_referrals_counts",
                "use_count >= 0 AND signup_count >= 0 AND first_activity_count >= 0"
                    + " AND (max_uses IS NULL OR max_uses > 0)"
            )
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(Referral.schema).delete()
    }

    static let indexes = [SchemaIndex("idx_referrals_created_by_id", on: Referral.schema, ["created_by_id"])]
}
