import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

/// The permission matrix: every organisation-scoped operation of the contract × every role × every relation between
/// where the caller's role is held and the target organisation, each cell sent as a real request.
///
/// Nothing per cell is written by hand: the operations and their permissions come from `openapi.yaml`
/// (`x-permission`), and each cell's expected outcome is derived from `Permission.grants` and the relation alone
/// (see `expectation(_:role:relation:)`). Only how to build a valid request for each operation is written here.
///
/// Removing one scope check makes it fail. Verified once by hand: in `getOrganization`, replacing
/// `request.access.authorize(in: id)` with `request.access.authorizeAnywhere()` plus a plain `Organization.find`
/// made the `getOrganization` case fail with 12 mismatches — the `sibling` and `otherTenant` cells of peer_mentor,
/// coordinator, org_admin and national_admin answered 200 where 404 is expected, and their `noMembership` cells
/// 403 instead of 404 — plus the "0 cross-tenant 2xx" count. Restored afterwards; every other case stayed green.
@Suite("Permission matrix")
struct PermissionMatrixTests {
    typealias Role = UserRole.Role

    /// Where the caller's role is held, relative to the target organisation `T`.
    enum Relation: String, CaseIterable, Sendable {
        /// Held in `T` itself.
        case own
        /// Held in `T`'s parent: rights flow down to the child `T`.
        case parent
        /// Held in a sibling branch of the same tenant (region B, when `T` is in region A).
        case sibling
        /// Held in another tenant's national organisation.
        case otherTenant
        /// The role row exists in `T`, but the membership there has ended: the role must not count.
        case noMembership
    }

    /// What a cell must answer.
    enum Expectation: String, Sendable {
        /// 2xx, or a business-rule 4xx (400, 409) that is neither 401, 403 nor 404.
        case allowed
        case forbidden
        case notFound
    }

    /// The expected outcome, derived from the permission table only.
    ///
    /// A role is *live* when its membership is (platform_admin needs none); it *reaches* `T` when it is held in `T`
    /// or an ancestor of `T`. `Access.authorize` answers 404 unless some live role reaches `T` (or a role grants
    /// the permission `.anywhere`), and 403 when the roles that reach `T` do not grant it.
    static func expectation(_ permission: Permission, role: Role, relation: Relation) -> Expectation {
        let organizationScoped = role != .platformAdmin
        let live = !organizationScoped || relation != .noMembership
        let reaches = organizationScoped && live && (relation == .own || relation == .parent)
        switch permission.grants[role] {
        case .anywhere?: return live ? .allowed : .notFound
        case .subtree?: return reaches ? .allowed : .notFound
        case nil: return reaches ? .forbidden : .notFound
        }
    }

    static let contract = try! OpenAPIContract.bundled()

    /// Path parameters and query parameters that name an organisation-scoped record.
    static let scopedPathParameters: Set<String> = [
        "organizationId", "membershipId", "sessionId", "contactId", "activityId", "attachmentId", "activityTypeId",
        "reportId", "exportId",
    ]
    static let scopedQueryParameters: Set<String> = ["organization_id"]
    /// Operations whose target sits in the body (`parent_id`).
    static let bodyScoped: Set<String> = ["createOrganization", "createContact", "createActivity"]
    /// Operations with a non-public permission that have no single target organisation; they filter by reach
    /// instead, and are covered by their own suites.
    static let unscoped: Set<String> = [
        "listOrganizations", "verifyAuditLog", "createActivitiesBatch", "updateGlobalActivityType", "replaceBufdirRules",
        // the job queue is platform machinery, for platform admins only (JobsAdminAPITests)
        "listAdminJobs", "getAdminJob", "retryAdminJob", "cancelAdminJob",
    ]

    /// The matrix's operations: every operation whose permission some role grants and that has a scoped target.
    static let scopedOperationIDs: [String] = contract.operations.filter { operation in
        guard let permission = operation.permission.flatMap(Permission.init(rawValue:)), !permission.grants.isEmpty,
            !unscoped.contains(operation.operationID)
        else { return false }
        return bodyScoped.contains(operation.operationID)
            || operation.parameters.contains { parameter in
                (parameter.location == .path && scopedPathParameters.contains(parameter.name))
                    || (parameter.location == .query && scopedQueryParameters.contains(parameter.name))
            }
    }.map(\.operationID).sorted()

    @Test("every role-granted operation is either in the matrix or explicitly unscoped")
    func coverage() throws {
        // given
        let granted = Self.contract.operations.filter { operation in
            !(operation.permission.flatMap(Permission.init(rawValue:))?.grants.isEmpty ?? true)
        }.map(\.operationID)

        // then: a new operation cannot silently escape the matrix
        #expect(Set(granted) == Set(Self.scopedOperationIDs).union(Self.unscoped))
        #expect(Self.scopedOperationIDs.count >= 15)
        #expect(Self.scopedOperationIDs.allSatisfy { MatrixCase.hasFactory(for: $0) })
    }

    @Test("cells", arguments: scopedOperationIDs)
    func matrix(operationID: String) async throws {
        let operation = try #require(Self.contract.operations.first { $0.operationID == operationID })
        let permission = try #require(operation.permission.flatMap(Permission.init(rawValue:)))
        try await withTestApp { app in
            // given: the tree, the target and one caller per (role, relation)
            let tree = try await IdentityFixtures.tree(app)
            let target = MatrixCase.target(for: operationID, in: tree)
            var callers: [String: SignedIn] = [:]
            for role in Role.allCases {
                for relation in Relation.allCases {
                    callers["\(role.rawValue)/\(relation.rawValue)"] = try await Self.caller(
                        app, role: role, relation: relation, target: target, tree: tree)
                }
            }

            var cells = 0
            var crossTenantSuccesses = 0
            var sidewaysSuccesses = 0
            for role in Role.allCases {
                for relation in Relation.allCases {
                    // given: a fresh, valid request against records in the target organisation
                    let caller = try #require(callers["\(role.rawValue)/\(relation.rawValue)"])
                    let built = try #require(
                        try await MatrixCase.request(
                            for: operationID, app: app, target: target, tree: tree, caller: caller, role: role))
                    let path = try built.path(for: operation)
                    let expected = Self.expectation(permission, role: role, relation: relation)

                    // when
                    let response = try await built.send(app, HTTPMethod(rawValue: operation.method), path, as: caller)

                    // then
                    cells += 1
                    let status = response.status.code
                    let cell = "\(operationID) × \(role.rawValue) × \(relation.rawValue): expected \(expected.rawValue)"
                    switch expected {
                    case .allowed:
                        #expect(
                            (200..<500).contains(status) && ![401, 403, 404].contains(status),
                            "\(cell), got \(status) \(response.text)")
                    case .forbidden:
                        #expect(status == 403, "\(cell), got \(status) \(response.text)")
                    case .notFound:
                        #expect(status == 404, "\(cell), got \(status) \(response.text)")
                    }
                    if role != .platformAdmin, (200..<300).contains(status) {
                        if relation == .otherTenant { crossTenantSuccesses += 1 }
                        if relation == .sibling { sidewaysSuccesses += 1 }
                    }
                    // a suspension from one cell must not leak into the next
                    try await Organization.query(on: app.db).set(\.$status, to: .active).update()
                }
            }

            // then
            #expect(cells == Role.allCases.count * Relation.allCases.count)
            #expect(crossTenantSuccesses == 0)
            #expect(sidewaysSuccesses == 0)
        }
    }

    @Test("the expectations follow the table: spot checks of the derivation itself")
    func derivation() {
        #expect(Self.expectation(.membershipsManage, role: .orgAdmin, relation: .own) == .allowed)
        #expect(Self.expectation(.membershipsManage, role: .orgAdmin, relation: .parent) == .allowed)
        #expect(Self.expectation(.membershipsManage, role: .orgAdmin, relation: .sibling) == .notFound)
        #expect(Self.expectation(.membershipsManage, role: .orgAdmin, relation: .otherTenant) == .notFound)
        #expect(Self.expectation(.membershipsManage, role: .orgAdmin, relation: .noMembership) == .notFound)
        #expect(Self.expectation(.membershipsManage, role: .peerMentor, relation: .own) == .forbidden)
        #expect(Self.expectation(.membershipsManage, role: .peerMentor, relation: .otherTenant) == .notFound)
        #expect(Self.expectation(.membershipsManage, role: .platformAdmin, relation: .own) == .notFound)
        #expect(Self.expectation(.organizationsSuspend, role: .platformAdmin, relation: .otherTenant) == .allowed)
        #expect(Self.expectation(.organizationsRead, role: .peerMentor, relation: .parent) == .allowed)
    }

    /// A signed-in user holding `role` where `relation` says, relative to `target`.
    static func caller(
        _ app: Application, role: Role, relation: Relation, target: Organization, tree: OrganizationTreeFixture
    ) async throws -> SignedIn {
        let email = "\(role.rawValue).\(relation.rawValue)@matrix.test"
        if role == .platformAdmin {
            return try await IdentityFixtures.signedIn(app, email: email, roles: [(.platformAdmin, nil)])
        }
        let holder: Organization
        var status = OrganizationMembership.Status.active
        switch relation {
        case .own: holder = target
        case .parent:
            let parentID = try #require(target.$parent.id)
            holder = try #require(try await Organization.find(parentID, on: app.db))
        case .sibling: holder = tree.regionB
        case .otherTenant: holder = tree.other
        case .noMembership:
            holder = target
            status = .ended
        }
        let user = try await IdentityFixtures.user(app, email: email, roles: [(role, holder)], membershipStatus: status)
        return try await IdentityFixtures.signIn(app, user)
    }

    @Test("every operation declares a permission from the table")
    func everyOperationDeclaresAPermission() throws {
        // when / then
        try Self.contract.checkPermissionsDeclared()
        for operation in Self.contract.operations {
            #expect(
                operation.permission.flatMap(Permission.init(rawValue:)) != nil,
                "\(operation.operationID) declares \(operation.permission ?? "nothing")")
        }
        // and every permission of the table is used by some operation
        let used = Set(Self.contract.operations.compactMap(\.permission))
        #expect(Set(Permission.allCases.map(\.rawValue)).subtracting(used).isEmpty)
    }

    @Test("every non-public operation answers 401 without a valid token")
    func anonymousIsRefused() async throws {
        try await withTestApp { app in
            var walked = 0
            for operation in Self.contract.operations {
                guard let permission = operation.permission.flatMap(Permission.init(rawValue:)),
                    permission.requiresAuthentication
                else { continue }
                // given: any values for the path parameters; no body (authentication comes first)
                let path = try MatrixRequest(pathParameters: [
                    "organizationId": UUID().api, "membershipId": UUID().api, "sessionId": UUID().api,
                    "role": "peer_mentor", "contactId": UUID().api, "mentorId": UUID().api, "activityId": UUID().api,
                    "attachmentId": UUID().api, "activityTypeId": UUID().api, "reportId": UUID().api,
                    "exportId": UUID().api, "jobId": UUID().api, "year": "2025", "notificationId": UUID().api,
                    "deviceId": UUID().api,
                ]).path(for: operation)

                for headers: HTTPHeaders in [[:], ["Authorization": "Bearer not.a.jwt"], ["Authorization": "Basic eDp5"]] {
                    // when
                    var status: HTTPStatus?
                    var problem: String?
                    try await app.testing().test(HTTPMethod(rawValue: operation.method), path, headers: headers) { response in
                        status = response.status
                        problem = (try? JSONDecoder().decode(ProblemDocument.self, from: Data(buffer: response.body)))?.code
                    }

                    // then
                    #expect(status == .unauthorized, "\(operation.operationID) \(headers): \(String(describing: status))")
                    #expect(problem == "unauthorized")
                }
                walked += 1
            }
            #expect(walked >= 20)
        }
    }
}

/// One request of the matrix: path parameters, query string and JSON body (or raw bytes of another type).
struct MatrixRequest: Sendable {
    var pathParameters: [String: String] = [:]
    var query: String = ""
    var body: String?
    var raw: (contentType: String, bytes: Data)?

    func send(_ app: Application, _ method: HTTPMethod, _ path: String, as caller: SignedIn) async throws -> APIResult {
        guard let raw else { return try await API.send(app, method, path, as: caller, json: body) }
        var headers = caller.headers
        headers.replaceOrAdd(name: .contentType, value: raw.contentType)
        var result: APIResult?
        try await app.testing().test(method, path, headers: headers, body: ByteBuffer(data: raw.bytes)) { response in
            result = APIResult(status: response.status, body: Data(buffer: response.body), headers: response.headers)
        }
        return try #require(result)
    }

    /// The operation's path template from the contract, filled in.
    func path(for operation: OpenAPIContract.Operation) throws -> String {
        var path = operation.path
        for parameter in operation.parameters where parameter.location == .path {
            let value = try #require(pathParameters[parameter.name], "no value for {\(parameter.name)}")
            path = path.replacingOccurrences(of: "{\(parameter.name)}", with: value)
        }
        #expect(!path.contains("{"), "unfilled path parameter in \(path)")
        return path + (query.isEmpty ? "" : "?" + query)
    }
}

/// Per-operation request factories: how to make a valid request against fresh records of the target organisation.
enum MatrixCase {
    static let factories: Set<String> = [
        "getOrganization", "updateOrganization", "suspendOrganization", "reactivateOrganization", "createOrganization",
        "listMemberships", "createInvitation", "pauseMembership", "resumeMembership", "endMembership", "grantRole",
        "revokeRole", "listSessions", "revokeSession", "listAuditEntries",
        "listContacts", "createContact", "getContact", "updateContact", "archiveContact", "recordConsent",
        "withdrawConsent", "assignMentor", "unassignMentor", "exportContact", "eraseContact",
        "listOrganizationActivityTypes", "createActivityType", "updateActivityType",
        "listActivities", "createActivity", "getActivity", "updateActivity", "deleteActivity", "approveActivity",
        "rejectActivity", "listAttachments", "uploadAttachment", "downloadAttachment", "deleteAttachment",
    ]

    static func hasFactory(for operationID: String) -> Bool {
        factories.contains(operationID) || bufdirFactories.contains(operationID)
    }

    /// The target organisation: a chapter, except where the operation needs a parent that can take children.
    static func target(for operationID: String, in tree: OrganizationTreeFixture) -> Organization {
        operationID == "createOrganization" ? tree.regionA : tree.chapterA1
    }

    static func request(
        for operationID: String, app: Application, target: Organization, tree: OrganizationTreeFixture,
        caller: SignedIn, role: UserRole.Role
    ) async throws -> MatrixRequest? {
        let organizationID = target.apiID
        if let request = try await MatrixCase.tenantDataRequest(
            for: operationID, app: app, target: target, caller: caller, role: role)
        {
            return request
        }
        func member(
            _ status: OrganizationMembership.Status = .active, roles: [UserRole.Role] = [.peerMentor]
        ) async throws -> (User, OrganizationMembership) {
            let user = try await IdentityFixtures.user(
                app, email: "member-\(UUID().api)@matrix.test", roles: roles.map { ($0, target) },
                membershipStatus: status)
            let membership = try #require(
                try await OrganizationMembership.query(on: app.db).filter(\.$user.$id == user.requireID())
                    .filter(\.$organization.$id == target.requireID()).first())
            return (user, membership)
        }

        switch operationID {
        case "getOrganization":
            return MatrixRequest(pathParameters: ["organizationId": organizationID])
        case "updateOrganization":
            return MatrixRequest(pathParameters: ["organizationId": organizationID], body: #"{"name": "Omdøpt"}"#)
        case "suspendOrganization":
            return MatrixRequest(pathParameters: ["organizationId": organizationID], body: #"{"reason": "matrix"}"#)
        case "reactivateOrganization":
            // The target is active, so a granted caller gets 409 (not 403/404): the scope check still decides.
            return MatrixRequest(pathParameters: ["organizationId": organizationID])
        case "createOrganization":
            return MatrixRequest(
                body: #"{"name": "Nytt lokallag", "kind": "local", "parent_id": "\#(organizationID)"}"#)
        case "listMemberships":
            return MatrixRequest(pathParameters: ["organizationId": organizationID])
        case "createInvitation":
            return MatrixRequest(
                pathParameters: ["organizationId": organizationID],
                body: #"{"email": "invitee-\#(UUID().api)@matrix.test", "roles": ["peer_mentor"]}"#)
        case "pauseMembership":
            let (_, membership) = try await member()
            return MatrixRequest(
                pathParameters: ["membershipId": try membership.requireID().api], body: #"{"reason": "matrix"}"#)
        case "resumeMembership":
            let (_, membership) = try await member(.paused)
            return MatrixRequest(pathParameters: ["membershipId": try membership.requireID().api])
        case "endMembership":
            let (_, membership) = try await member()
            return MatrixRequest(pathParameters: ["membershipId": try membership.requireID().api])
        case "grantRole":
            let (_, membership) = try await member()
            return MatrixRequest(
                pathParameters: ["membershipId": try membership.requireID().api], body: #"{"role": "coordinator"}"#)
        case "revokeRole":
            let (_, membership) = try await member(roles: [.peerMentor, .coordinator])
            return MatrixRequest(pathParameters: ["membershipId": try membership.requireID().api, "role": "peer_mentor"])
        case "listSessions":
            return MatrixRequest(query: "organization_id=\(organizationID)")
        case "revokeSession":
            let (user, _) = try await member()
            let session = try await IdentityFixtures.signIn(app, user)
            return MatrixRequest(pathParameters: ["sessionId": session.sessionID.api])
        case "listAuditEntries":
            return MatrixRequest(query: "organization_id=\(organizationID)")
        default:
            return nil
        }
    }
}
