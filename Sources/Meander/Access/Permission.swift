/// Every permission an operation can declare (`x-permission` in `openapi.yaml`), and which roles grant it where.
///
/// This is the one declarative permission table. `AccessMiddleware` reads each operation's permission from the
/// contract, and `Access.authorize` checks it against the caller's roles; tests walk the whole matrix.
enum Permission: String, CaseIterable, Sendable {
    /// No sign-in needed.
    case `public`
    /// Any signed-in user, acting on their own account only.
    case authenticated
    case organizationsRead = "organizations.read"
    case organizationsCreate = "organizations.create"
    case organizationsUpdate = "organizations.update"
    case organizationsSuspend = "organizations.suspend"
    case membershipsRead = "memberships.read"
    case membershipsManage = "memberships.manage"
    case invitationsCreate = "invitations.create"
    case rolesManage = "roles.manage"
    case sessionsAdmin = "sessions.admin"
    case auditRead = "audit.read"
    case auditVerify = "audit.verify"
    case contactsRead = "contacts.read"
    case contactsManage = "contacts.manage"
    case contactsGDPR = "contacts.gdpr"
    case activityTypesRead = "activity_types.read"
    case activityTypesManage = "activity_types.manage"
    case activityTypesGlobal = "activity_types.global"
    case activitiesRead = "activities.read"
    case activitiesCreate = "activities.create"
    case activitiesReview = "activities.review"
    case bufdirRead = "bufdir.read"
    case bufdirManage = "bufdir.manage"
    case bufdirExport = "bufdir.export"
    case bufdirRulesManage = "bufdir_rules.manage"
    case jobsManage = "jobs.manage"

    typealias Role = UserRole.Role

    /// Where a role must be held for it to grant a permission on a target organisation.
    enum Reach: Sendable, Equatable {
        /// On the target organisation or one of its ancestors: rights flow down the tree, never up or sideways.
        case subtree
        /// Anywhere: the role's holder acts platform-wide (tenant management, chain verification).
        case anywhere
    }

    /// The roles that grant this permission, and where each must be held.
    var grants: [Role: Reach] {
        switch self {
        case .public, .authenticated:
            [:]
        case .organizationsRead:
            [
                .peerMentor: .subtree, .coordinator: .subtree, .orgAdmin: .subtree, .nationalAdmin: .subtree,
                .platformAdmin: .anywhere,
            ]
        case .organizationsCreate, .organizationsUpdate:
            [.orgAdmin: .subtree, .nationalAdmin: .subtree, .platformAdmin: .anywhere]
        case .organizationsSuspend:
            [.nationalAdmin: .subtree, .platformAdmin: .anywhere]
        case .membershipsRead:
            [.coordinator: .subtree, .orgAdmin: .subtree, .nationalAdmin: .subtree]
        case .membershipsManage, .rolesManage, .sessionsAdmin:
            [.orgAdmin: .subtree, .nationalAdmin: .subtree]
        case .invitationsCreate:
            [.orgAdmin: .subtree, .nationalAdmin: .subtree, .platformAdmin: .anywhere]
        case .auditRead:
            [.orgAdmin: .subtree, .nationalAdmin: .subtree, .platformAdmin: .anywhere]
        case .auditVerify:
            [.nationalAdmin: .anywhere, .platformAdmin: .anywhere]
        // Tenant data: never the platform admin. A peer mentor's reach is narrowed further in the handlers (their
        // assigned contacts, their own activities).
        case .contactsRead, .activityTypesRead, .activitiesRead, .activitiesCreate:
            [.peerMentor: .subtree, .coordinator: .subtree, .orgAdmin: .subtree, .nationalAdmin: .subtree]
        case .contactsManage, .activitiesReview, .bufdirRead, .bufdirExport:
            [.coordinator: .subtree, .orgAdmin: .subtree, .nationalAdmin: .subtree]
        case .contactsGDPR, .activityTypesManage, .bufdirManage:
            [.orgAdmin: .subtree, .nationalAdmin: .subtree]
        // Bufdir's counting rules are national reference data, not tenant data.
        case .activityTypesGlobal, .bufdirRulesManage:
            [.platformAdmin: .anywhere]
        // The job queue is the platform's machinery: its operators see every tenant's jobs (payloads carry ids only).
        case .jobsManage:
            [.platformAdmin: .anywhere]
        }
    }

    /// Whether the operation needs a signed-in caller.
    var requiresAuthentication: Bool { self != .public }
}

extension UserRole.Role {
    /// The order of authority, used to stop anyone granting a role above their own.
    var rank: Int {
        switch self {
        case .peerMentor: 1
        case .coordinator: 2
        case .orgAdmin: 3
        case .nationalAdmin: 4
        case .platformAdmin: 5
        }
    }
}
