import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

/// No existence oracle: for every operation with a path id, an id outside the caller's reach and an id that does not
/// exist answer byte-identical problem documents, apart from `instance` and `request_id`.
///
/// Generated from the contract as the permission matrix is: the operations are those of the matrix that take a path
/// id, and each request is built by the matrix's own factories against records of a chapter the caller does not
/// reach (a sibling branch of the same tenant, and another tenant). The same request with every path id replaced
/// by a fresh UUID must answer the same bytes.
@Suite("Not found conceals existence")
struct NotFoundConcealmentTests {
    static let contract = PermissionMatrixTests.contract

    static func hasPathID(_ operation: OpenAPIContract.Operation) -> Bool {
        operation.parameters.contains { $0.location == .path && $0.schema["format"] as? String == "uuid" }
    }

    /// Operations with a path id that the matrix does not build, with the case that tests them here instead.
    static let ownCases: Set<String> = [
        "revokeMySession", "getJob", "markMyNotificationRead", "unregisterMyDevice",
    ]
    /// Operations with a path id where no record is out of reach for any caller the operation admits.
    static let exempt: [String: String] = [
        "updateGlobalActivityType": "global activity types belong to no tenant; only platform admins call it, and see them all",
        "getAdminJob": "the job queue is platform machinery: only platform admins call it, and see every job",
        "retryAdminJob": "the job queue is platform machinery: only platform admins call it, and see every job",
        "cancelAdminJob": "the job queue is platform machinery: only platform admins call it, and see every job",
    ]

    static let matrixOperationIDs: [String] = PermissionMatrixTests.scopedOperationIDs.filter { id in
        contract.operations.first { $0.operationID == id }.map(hasPathID) ?? false
    }

    @Test("every operation with a path id is covered")
    func coverage() {
        let withPathID = Set(Self.contract.operations.filter(Self.hasPathID).map(\.operationID))
        let covered = Set(Self.matrixOperationIDs).union(Self.ownCases).union(Self.exempt.keys)
        #expect(withPathID.subtracting(covered).isEmpty, "uncovered: \(withPathID.subtracting(covered).sorted())")
        #expect(Self.matrixOperationIDs.count >= 25)
    }

    /// The problem document without the fields that name the request.
    static func stable(_ result: APIResult) throws -> [String: String] {
        let object = try #require(try JSONSerialization.jsonObject(with: result.body) as? [String: Any])
        var stable: [String: String] = [:]
        for (key, value) in object where key != "instance" && key != "request_id" {
            stable[key] = "\(value)"
        }
        return stable
    }

    @Test("out of reach and absent answer the same bytes", arguments: matrixOperationIDs)
    func sameAnswer(operationID: String) async throws {
        let operation = try #require(Self.contract.operations.first { $0.operationID == operationID })
        try await withTestApp { app in
            // given: records in chapter A1, and an org admin of a sibling branch and of another tenant
            let tree = try await IdentityFixtures.tree(app)
            let target = MatrixCase.target(for: operationID, in: tree)
            for relation in [PermissionMatrixTests.Relation.sibling, .otherTenant] {
                let caller = try await PermissionMatrixTests.caller(
                    app, role: .orgAdmin, relation: relation, target: target, tree: tree)
                let built = try #require(
                    try await MatrixCase.request(
                        for: operationID, app: app, target: target, tree: tree, caller: caller, role: .orgAdmin))
                var absent = built
                for parameter in operation.parameters
                where parameter.location == .path && parameter.schema["format"] as? String == "uuid" {
                    absent.pathParameters[parameter.name] = UUID().api
                }

                // when
                let method = HTTPMethod(rawValue: operation.method)
                let outOfReach = try await built.send(app, method, try built.path(for: operation), as: caller)
                let missing = try await absent.send(app, method, try absent.path(for: operation), as: caller)

                // then
                #expect(outOfReach.status == .notFound, "\(operationID) \(relation): \(outOfReach.text)")
                #expect(missing.status == .notFound, "\(operationID) absent: \(missing.text)")
                #expect(
                    try Self.stable(outOfReach) == Self.stable(missing),
                    "\(operationID) \(relation): \(outOfReach.text) vs \(missing.text)")
            }
        }
    }

    @Test("another user's session and a session that does not exist answer the same bytes")
    func mySessions() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let me = try await IdentityFixtures.signedIn(app, email: "me@conceal.test", roles: [(.peerMentor, tree.chapterA1)])
            let other = try await IdentityFixtures.signedIn(
                app, email: "other@conceal.test", roles: [(.peerMentor, tree.chapterA1)])

            // when
            let theirs = try await API.send(app, .DELETE, "/api/v1/me/sessions/\(other.sessionID.api)", as: me)
            let none = try await API.send(app, .DELETE, "/api/v1/me/sessions/\(UUID().api)", as: me)

            // then
            #expect(theirs.status == .notFound)
            #expect(try Self.stable(theirs) == Self.stable(none))
        }
    }

    @Test("another user's job and a job that does not exist answer the same bytes")
    func jobs() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let me = try await IdentityFixtures.signedIn(
                app, email: "me@conceal.test", roles: [(.nationalAdmin, tree.national)])
            let other = try await IdentityFixtures.user(app, email: "other@conceal.test", roles: [(.nationalAdmin, tree.other)])
            let job = Job(kind: "bufdir_export", organizationID: try tree.other.requireID(), requestedByID: try other.requireID())
            try await job.create(on: app.db)

            // when
            let theirs = try await API.send(app, .GET, "/api/v1/jobs/\(try job.requireID().api)", as: me)
            let none = try await API.send(app, .GET, "/api/v1/jobs/\(UUID().api)", as: me)

            // then
            #expect(theirs.status == .notFound)
            #expect(try Self.stable(theirs) == Self.stable(none))
        }
    }

    @Test("another user's notification or device and one that does not exist answer the same bytes")
    func myNotificationsAndDevices() async throws {
        try await withTestApp { app in
            // given
            let me = try await IdentityFixtures.signedIn(app, email: "me@conceal.test", roles: [])
            let other = try await IdentityFixtures.user(app, email: "other@conceal.test")
            let rows = try await Notifier.notify(
                try other.requireID(), .init(.activityApproved, values: ["link": "x"]), deps: app.meander.dependencies,
                on: app.db)
            let device = NotificationDevice(userID: try other.requireID(), platform: .ios, token: "0123456789abcdef")
            try await device.create(on: app.db)

            // when
            let theirs = try await API.send(
                app, .POST, "/api/v1/me/notifications/\(try rows[0].requireID().api)/read", as: me)
            let none = try await API.send(app, .POST, "/api/v1/me/notifications/\(UUID().api)/read", as: me)
            let theirDevice = try await API.send(app, .DELETE, "/api/v1/me/devices/\(try device.requireID().api)", as: me)
            let noDevice = try await API.send(app, .DELETE, "/api/v1/me/devices/\(UUID().api)", as: me)

            // then
            #expect(theirs.status == .notFound && theirDevice.status == .notFound)
            #expect(try Self.stable(theirs) == Self.stable(none))
            #expect(try Self.stable(theirDevice) == Self.stable(noDevice))
            #expect(try await Notification.find(rows[0].id, on: app.db)?.readAt == nil)
            #expect(try await NotificationDevice.find(device.id, on: app.db) != nil)
        }
    }

    @Test("a record the caller sees whose file is gone keeps its own detail")
    func visibleRecordDetail() {
        // given
        let gone = AppError.goneFromVisibleRecord("The file of this attachment is gone.")
        let hidden = AppError(.notFound, "No such contact.")

        // then
        #expect(gone.concealingExistence().detail == "The file of this attachment is gone.")
        #expect(hidden.concealingExistence().detail == AppError.concealedDetail)
        #expect(AppError(.conflict, "x").concealingExistence().detail == "x")
    }
}
