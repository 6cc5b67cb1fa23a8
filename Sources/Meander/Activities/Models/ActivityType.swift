import FluentKit
import Foundation

/// An entry of the taxonomy of what can be logged: global (no organisation) or an organisation's own.
///
/// `key` is unique per organisation; among global types (NULL organisation) a partial unique index keeps it unique,
/// since both engines treat NULLs as distinct in a plain unique constraint.
final class ActivityType: Model, @unchecked Sendable {
    static let schema = "activity_types"

    /// The Bufdir reporting category, which decides the counting rule that applies:
    /// - `one_to_one`: a mentor with one person (visit, call, escort)
    /// - `group`: a group meeting (counts with enough participants and minutes)
    /// - `course`: a course day, including the training of peer mentors (`mentor_training`, which the counting
    ///   rules treat on its own: at least 2 × 45 minutes)
    /// - `information`: outreach such as an information stand
    /// - `event`: participation in an event
    /// - `other`: not one of the above; not counted unless a rule says so
    enum BufdirCategory: String, Codable, CaseIterable, Sendable {
        case oneToOne = "one_to_one"
        case group
        case course
        case information
        case event
        case other
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // references

    /// NULL for a global type.
    @OptionalParent(key: "organization_id")
    var organization: Organization?

    // data

    /// Stable snake_case key, e.g. `home_visit`.
    @Field(key: "key")
    var key: String

    @Field(key: "name_nb")
    var nameNb: String

    @Field(key: "name_en")
    var nameEn: String

    @Field(key: "bufdir_category")
    var bufdirCategory: BufdirCategory

    @Field(key: "reportable")
    var reportable: Bool

    @Field(key: "requires_evidence")
    var requiresEvidence: Bool

    @Field(key: "default_duration_minutes")
    var defaultDurationMinutes: Int

    @Field(key: "is_active")
    var isActive: Bool

    @Field(key: "sort_order")
    var sortOrder: Int

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID? = nil,
        key: String,
        nameNb: String,
        nameEn: String,
        bufdirCategory: BufdirCategory,
        reportable: Bool = true,
        requiresEvidence: Bool = false,
        defaultDurationMinutes: Int = 60,
        isActive: Bool = true,
        sortOrder: Int = 0
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.key = key
        self.nameNb = nameNb
        self.nameEn = nameEn
        self.bufdirCategory = bufdirCategory
        self.reportable = reportable
        self.requiresEvidence = requiresEvidence
        self.defaultDurationMinutes = defaultDurationMinutes
        self.isActive = isActive
        self.sortOrder = sortOrder
    }
}
