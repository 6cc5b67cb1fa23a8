import Foundation
import Logging
import Testing
import Vapor
import VaporTesting

@testable import Meander

/// The access log as an operator reads it: one line per request with the status the client got.
@Suite("Access log")
struct AccessLogTests {
    @Test("one line per request: method, path without the query, status, duration and the request id")
    func oneLinePerRequest() async throws {
        try await withTestApp { app in
            // given
            let records = LogRecords()
            app.logger = records.logger()

            // when
            var requestID: String?
            try await app.testing().test(.GET, "/health/live?email=ola%40example.no") { response in
                requestID = response.headers.first(name: "X-Request-Id")
            }

            // then
            let lines = records.all.filter { $0.message.hasPrefix("GET /health/live") }
            #expect(lines.count == 1)
            let line = try #require(lines.first)
            #expect(line.message.wholeMatch(of: /GET \/health\/live 200 \d+\.\dms/) != nil, "\(line.message)")
            #expect(!line.message.contains("ola") && !line.message.contains("?"))
            #expect(line.level == .info)
            #expect(line.metadata["request-id"] == requestID.map { .string($0) })
        }
    }

    @Test("a request that ends in an error is logged with the status of the problem the client got")
    func errorStatus() async throws {
        try await withTestApp { app in
            // given
            struct Unexpected: Error {}
            app.get("test-failure") { _ -> String in throw Unexpected() }
            let records = LogRecords()
            app.logger = records.logger()

            // when
            var status: HTTPStatus?
            try await app.testing().test(.GET, "/test-failure") { response in status = response.status }
            try await app.testing().test(.GET, "/api/v1/no-such-thing") { _ in }

            // then
            #expect(status == .internalServerError)
            let messages = records.all.map(\.message)
            #expect(messages.contains { $0.wholeMatch(of: /GET \/test-failure 500 \d+\.\dms/) != nil }, "\(messages)")
            #expect(messages.contains { $0.wholeMatch(of: /GET \/api\/v1\/no-such-thing 404 \d+\.\dms/) != nil }, "\(messages)")
        }
    }

    @Test("with the JSON format the same fields are metadata")
    func jsonMetadata() async throws {
        try await withTestApp(configure: { $0.logFormat = .json }) { app in
            // given
            let records = LogRecords()
            app.logger = records.logger()

            // when
            try await app.testing().test(.GET, "/api/v1/me") { _ in }

            // then
            let line = try #require(records.all.first { $0.message.hasPrefix("GET /api/v1/me") })
            #expect(line.metadata["method"] == .string("GET"))
            #expect(line.metadata["path"] == .string("/api/v1/me"))
            #expect(line.metadata["status"]?.description == "401")
            let duration = try #require(line.metadata["duration_ms"]?.description)
            #expect(Double(duration) != nil && line.message.hasSuffix(" \(duration)ms"))
        }
    }
}

/// Keeps every record logged through its loggers.
final class LogRecords: @unchecked Sendable {
    struct Record {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let lock = NSLock()
    private var records: [Record] = []

    var all: [Record] { lock.withLock { records } }

    func append(_ record: Record) { lock.withLock { records.append(record) } }

    /// A logger at level info whose records end up here.
    func logger() -> Logger {
        var logger = Logger(label: "meander.tests.access-log") { _ in Handler(records: self) }
        logger.logLevel = .info
        return logger
    }

    struct Handler: LogHandler {
        let records: LogRecords
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            records.append(
                Record(
                    level: event.level, message: event.message.description,
                    metadata: metadata.merging(event.metadata ?? [:]) { _, new in new }))
        }
    }
}
