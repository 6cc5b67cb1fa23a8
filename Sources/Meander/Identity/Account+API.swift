import Foundation

extension Components.Schemas.Me {
    /// The API view of a user's own account; memberships by organisation name.
    init(_ account: AccountRecord) throws {
        let memberships = try account.memberships.map(Components.Schemas.Membership.init)
            .sorted { ($0.organizationName ?? "", $0.id) < ($1.organizationName ?? "", $1.id) }
        self.init(
            user: try Components.Schemas.User(account.user), memberships: memberships,
            platformRoles: Components.Schemas.Membership.apiRoles(account.platformRoles))
    }
}
