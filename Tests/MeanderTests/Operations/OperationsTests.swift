import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Health, readiness and metrics")
struct OperationsTests {
    @Test("liveness answers without the database")
    func liveness() async throws {
        try await withTestApp(migrate: false) { app in
            try await app.testing().test(.GET, "/health/live") { response in
                #expect(response.status == .ok)
                #expect(response.body.string == #"{"status":"ok"}"#)
            }
        }
    }

    @Test("readiness checks the database")
    func readiness() async throws {
        try await withTestApp { app in
            try await app.testing().test(.GET, "/health/ready") { response in
                #expect(response.status == .ok)
                struct Health: Decodable {
                    var status: String
                    var checks: [String: String]
                }
                let health = try JSONDecoder().decode(Health.self, from: Data(buffer: response.body))
                #expect(health.status == "ok")
                #expect(health.checks == ["database": "ok"])
            }
        }
    }

    @Test("readiness is 503 service_unavailable when the database is down")
    func readinessDown() async throws {
        // given: a PostgreSQL URL on a port where nothing listens
        let port = try Self.closedPort()
        try await withTestApp(
            migrate: false,
            configure: { $0.database = .postgres(url: "postgres://nobody:x@127.0.0.1:\(port)/nothing") }
        ) { app in
            // when
            try await app.testing().test(.GET, "/health/ready") { response in
                // then
                #expect(response.status == .serviceUnavailable)
                #expect(response.body.string.contains(#""code":"service_unavailable""#))
            }
        }
    }

    @Test("metrics count requests by route template and status")
    func metrics() async throws {
        try await withTestApp { app in
            // given
            try await app.testing().test(.GET, "/health/live") { #expect($0.status == .ok) }
            try await app.testing().test(.GET, "/health/live") { #expect($0.status == .ok) }
            try await app.testing().test(.GET, "/no/such/route") { #expect($0.status == .notFound) }

            // when
            try await app.testing().test(.GET, "/metrics") { response in
                // then
                #expect(response.status == .ok)
                let text = response.body.string
                #expect(text.contains(#"meander_http_requests_total{method="GET",route="/health/live",status="200"} 2"#))
                #expect(text.contains(#"meander_http_requests_total{method="GET",route="unmatched",status="404"} 1"#))
                #expect(text.contains("meander_http_request_duration_seconds_bucket"))
            }
        }
    }

    /// A loopback port that was free a moment ago.
    static func closedPort() throws -> Int {
        let socket = try ServerSocketProbe()
        return socket.port
    }
}

/// Binds an ephemeral loopback port and releases it, to find a port where nothing listens.
struct ServerSocketProbe {
    let port: Int

    init() throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        port = Int(UInt16(bigEndian: address.sin_port))
    }
}
