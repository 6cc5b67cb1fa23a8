import FluentKit
import Foundation

/// A badge awarded to a user, once per (user, badge).
final class UserBadge: Model, @unchecked Sendable {
    static let schema = "user_badges"

    /// Who decided the award.
    enum AwardMethod: String, Codable, CaseIterable, Sendable {
        case rule
        case manual
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // references

    @Parent(key: "user_id")
    var user: User

    @Parent(key: "badge_id")
    var badge: Badge

    /// The organisation in whose work the badge was earned, if it matters.
    @OptionalParent(key: "organization_id")
    var organization: Organization?

    @OptionalParent(key: "awarded_by_id")
    var awardedBy: User?

    // data

    @Field(key: "awarded_at")
    var awardedAt: Date

    @Field(key: "award_method")
    var awardMethod: AwardMethod

    /// Why, e.g. "50 aktiviteter registrert".
    @OptionalField(key: "reason")
    var reason: String?

    @OptionalField(key: "notified_at")
    var notifiedAt: Date?

    @OptionalField(key: "seen_at")
    var seenAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        userID: UUID,
        badgeID: UUID,
        awardMethod: AwardMethod = .rule,
        awardedAt: Date = Date(),
        reason: String? = nil,
        organizationID: UUID? = nil,
        awardedByID: UUID? = nil
    ) {
        self.id = id
        self.$user.id = userID
        self.$badge.id = badgeID
        self.awardMethod = awardMethod
        self.awardedAt = awardedAt
        self.reason = reason
        self.$organization.id = organizationID
        self.$awardedBy.id = awardedByID
    }
}
