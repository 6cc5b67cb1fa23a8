import Fluent
import Foundation

extension Components.Schemas.Membership {
    /// The API view of a membership: its organisation's name, the member and the roles they hold there.
    ///
    /// `roles` are the live grants (not revoked) in the membership's organisation; for an invitation they are the
    /// roles the invitation will grant on acceptance.
    init(
        _ membership: OrganizationMembership, user: User, organizationName: String?, roles: [UserRole.Role]
    ) throws {
        self.init(
            id: try membership.requireID().uuidString.lowercased(),
            organizationId: membership.$organization.id.uuidString.lowercased(),
            organizationName: organizationName,
            user: try Components.Schemas.UserSummary(user),
            status: Components.Schemas.MembershipStatus(membership.status),
            roles: Self.apiRoles(roles),
            joinedAt: membership.joinedAt,
            pausedAt: membership.pausedAt,
            pausedUntil: membership.pausedUntil,
            endedAt: membership.endedAt)
    }

    /// The API view of a membership record.
    init(_ record: MembershipRecord) throws {
        try self.init(
            record.membership, user: record.user, organizationName: record.organizationName, roles: record.roles)
    }

    /// Roles in a fixed order (by rank), so that responses are stable.
    static func apiRoles(_ roles: [UserRole.Role]) -> [Components.Schemas.Role] {
        Set(roles).sorted { $0.rank < $1.rank }.compactMap { Components.Schemas.Role(rawValue: $0.rawValue) }
    }
}

extension Components.Schemas.MembershipStatus {
    init(_ status: OrganizationMembership.Status) {
        switch status {
        case .invited: self = .invited
        case .active: self = .active
        case .paused: self = .paused
        case .ended: self = .ended
        }
    }
}

extension Components.Schemas.UserSummary {
    /// The short API view of a user: id, e-mail and name.
    init(_ user: User) throws {
        self.init(
            id: try user.requireID().uuidString.lowercased(), email: user.email, firstName: user.firstName,
            lastName: user.lastName)
    }
}

extension Components.Schemas.User {
    /// The API view of a user's own account; never the password hash or throttle state.
    init(_ user: User) throws {
        let locale: LocalePayload =
            switch user.locale {
            case .nb: .nb
            case .nn: .nn
            case .en: .en
            }
        let status: Components.Schemas.UserStatus =
            switch user.status {
            case .pending: .pending
            case .active: .active
            case .suspended: .suspended
            case .deleted: .deleted
            }
        self.init(
            id: try user.requireID().uuidString.lowercased(), email: user.email, firstName: user.firstName,
            lastName: user.lastName, phone: user.phone, locale: locale, timeZone: user.timeZone, status: status)
    }
}
