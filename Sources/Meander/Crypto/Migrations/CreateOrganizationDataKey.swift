import FluentSQL

/// Creates `organization_data_keys`: the wrapped data keys of each organisation, one row per version.
struct CreateOrganizationDataKey: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(OrganizationDataKey.schema)
            .id()
            .field("created_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("version", .int64, .required)
            .field("wrapped_key", .data, .required)
            .field("master_key_id", .string, .required)
            .field("retired_at", .datetime)
            // The conflict target of the race-safe first-key insert (`INSERT … ON CONFLICT DO NOTHING`).
            .unique(on: "organization_id", "version")
            .check(named: "ck_organization_data_keys_version", "version >= 1")
            .check(named: "ck_organization_data_keys_master_key_id", "length(master_key_id) = 16")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(OrganizationDataKey.schema).delete()
    }

    /// `meander keys rotate` and `keys status` look rows up by their wrapping master key.
    static let indexes = [
        SchemaIndex("idx_organization_data_keys_master_key_id", on: OrganizationDataKey.schema, ["master_key_id"])
    ]
}
