import Fluent
import Foundation
import Testing
import Vapor

@testable import Meander

/// `AppDependencies`: the clock and ids a test controls, and the request paths that take them.
@Suite("App dependencies")
struct AppDependenciesTests {
    static let start = Date(timeIntervalSince1970: 1_741_946_400)  // 2025-03-14T10:00:00Z

    @Test("a test clock stands still, moves when told, and a sleep moves it on without waiting")
    func testClock() async throws {
        // given
        let clock = TestClock(Self.start)
        // when, then
        #expect(clock.now == Self.start)
        clock.advance(by: .seconds(90))
        #expect(clock.now == Self.start.addingTimeInterval(90))
        try await clock.clock.sleep(.seconds(86_400))
        #expect(clock.clock.now() == Self.start.addingTimeInterval(90 + 86_400))
        clock.set(Self.start)
        #expect(clock.now == Self.start)
    }

    @Test("incrementing ids count up from one, each source on its own")
    func incrementingIDs() {
        // given
        let first = UUIDSource.incrementing()
        let second = UUIDSource.incrementing(from: 0x2a)
        // when
        let ids = [first(), first(), second(), first()]
        // then
        #expect(
            ids.map(\.uuidString) == [
                "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002",
                "00000000-0000-0000-0000-00000000002A", "00000000-0000-0000-0000-000000000003",
            ])
    }

    @Test("logging, editing and approving an activity take their times and ids from the app's clock and id source")
    func requestPathsUseTheAppClock() async throws {
        let clock = TestClock(Self.start)
        let dependencies = AppDependencies(clock: clock.clock, uuid: .incrementing(from: 0x1000))
        try await withTestApp(dependencies: dependencies) { app in
            // given: a mentor's activity, logged when the clock reads `start`, without a client id
            let world = try await ActivityWorld.make(app)
            let homeVisit = try await ActivityWorld.typeID(app, "home_visit")
            let created = try await API.send(
                app, .POST, "/api/v1/activities", as: world.mentor,
                json: ActivityWorld.body(organization: world.tree.chapterA1, type: homeVisit, clientID: nil))
            #expect(created.status == .created)
            let logged = try created.decode(Components.Schemas.Activity.self)
            // the request's id first, then the activity's client id and id
            #expect(created.headers.first(name: "X-Request-Id") == "00000000-0000-0000-0000-000000001000")
            #expect(logged.clientId == "00000000-0000-0000-0000-000000001001")
            #expect(logged.id == "00000000-0000-0000-0000-000000001002")
            #expect(logged.createdAt == Self.start)

            // when: ninety minutes later the mentor corrects it, and a day later the coordinator approves it
            clock.advance(by: .seconds(90 * 60))
            let edited = try await API.send(
                app, .PATCH, "/api/v1/activities/\(logged.id)", as: world.mentor, json: #"{"duration_minutes": 75}"#)
            clock.advance(by: .seconds(86_400))
            let approved = try await API.send(
                app, .POST, "/api/v1/activities/\(logged.id)/approve", as: world.coordinator)

            // then: each change carries the clock's time, and so do its audit entries
            #expect(edited.status == .ok)
            #expect(try edited.decode(Components.Schemas.Activity.self).updatedAt == Self.start.addingTimeInterval(5_400))
            let view = try approved.decode(Components.Schemas.Activity.self)
            #expect(view.approvedAt == Self.start.addingTimeInterval(5_400 + 86_400))
            let entries = try await AuditLogEntry.query(on: app.db)
                .filter(\.$action ~~ ["activity.created", "activity.updated", "activity.approved"])
                .sort(\.$sequence).all()
            #expect(
                entries.map(\.createdAt) == [
                    Self.start, Self.start.addingTimeInterval(5_400), Self.start.addingTimeInterval(5_400 + 86_400),
                ])
        }
    }
}
