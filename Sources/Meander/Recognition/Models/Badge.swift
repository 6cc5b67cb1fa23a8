import FluentKit
import Foundation

/// A platform-defined achievement, awarded by a rule over recorded facts or by hand.
final class Badge: Model, @unchecked Sendable {
    static let schema = "badges"

    /// The kind of rule that awards the badge; `rule_threshold` and `rule_parameters` parameterise it.
    enum RuleKind: String, Codable, CaseIterable, Sendable {
        /// At least `rule_threshold` approved or registered activities (1 = first activity).
        case activityCount = "activity_count"
        /// At least `rule_threshold` completed courses.
        case coursesCompleted = "courses_completed"
        /// At least `rule_threshold` years since the first active membership.
        case yearsOfService = "years_of_service"
        /// Awarded by a person only.
        case manual
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // data

    /// Stable key, e.g. `first_activity`, `activities_50`.
    @Field(key: "key")
    var key: String

    @Field(key: "name_nb")
    var nameNb: String

    @Field(key: "name_en")
    var nameEn: String

    @OptionalField(key: "description_nb")
    var descriptionNb: String?

    @OptionalField(key: "description_en")
    var descriptionEn: String?

    @OptionalField(key: "icon_key")
    var iconKey: String?

    @Field(key: "rule_kind")
    var ruleKind: RuleKind

    @OptionalField(key: "rule_threshold")
    var ruleThreshold: Int?

    /// JSON object with further rule parameters.
    @Field(key: "rule_parameters")
    var ruleParameters: String

    @Field(key: "is_active")
    var isActive: Bool

    @Field(key: "sort_order")
    var sortOrder: Int

    init() {}

    init(
        id: UUID? = nil,
        key: String,
        nameNb: String,
        nameEn: String,
        ruleKind: RuleKind,
        ruleThreshold: Int? = nil,
        ruleParameters: String = "{}",
        descriptionNb: String? = nil,
        descriptionEn: String? = nil,
        iconKey: String? = nil,
        isActive: Bool = true,
        sortOrder: Int = 0
    ) {
        self.id = id
        self.key = key
        self.nameNb = nameNb
        self.nameEn = nameEn
        self.ruleKind = ruleKind
        self.ruleThreshold = ruleThreshold
        self.ruleParameters = ruleParameters
        self.descriptionNb = descriptionNb
        self.descriptionEn = descriptionEn
        self.iconKey = iconKey
        self.isActive = isActive
        self.sortOrder = sortOrder
    }
}
