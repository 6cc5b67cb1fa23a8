import Crypto
import Fluent
import FluentSQL
import Foundation
import Vapor

@testable import Meander

/// Builders for encryption tests: organisations, field contexts, sealed values and a second app on the same database.
enum CryptoFixtures {
    /// A value sealed for one place, with the text it holds.
    struct Sealed: Sendable {
        let plaintext: String
        let context: FieldContext
        let envelope: Data
    }

    /// A fresh organisation's id.
    static func organization(_ app: Application, _ name: String = "Testforbund") async throws -> UUID {
        try await IdentityFixtures.organization(app, "\(name) \(UUID().uuidString.prefix(8))", kind: .national)
            .requireID()
    }

    static func context(
        _ organizationID: UUID, table: String = "contacts", column: String = "notes_ciphertext", row: UUID = UUID()
    ) -> FieldContext {
        FieldContext(organizationID: organizationID, table: table, column: column, rowID: row)
    }

    /// Seals `perOrganization` distinct values in each of `organizations` new organisations through `cipher`.
    static func sealValues(
        _ app: Application, cipher: FieldCipher, organizations: Int, perOrganization: Int
    ) async throws -> [Sealed] {
        var sealed: [Sealed] = []
        for organizationIndex in 0..<organizations {
            let organizationID = try await organization(app, "Forbund \(organizationIndex)")
            for index in 0..<perOrganization {
                let context = context(organizationID, column: index.isMultiple(of: 2) ? "notes_ciphertext" : "needs_ciphertext")
                let plaintext = "Behov \(organizationIndex)-\(index): oppfølging etter sykehusopphold, æøå"
                sealed.append(
                    Sealed(plaintext: plaintext, context: context, envelope: try await cipher.seal(plaintext, context, on: app.db)))
            }
        }
        return sealed
    }

    /// Runs `body` with a second application on the same database, its configuration adjusted (another node, or
    /// the same node restarted with other keys).
    static func withSecondApp(
        of app: Application, configure adjust: (inout AppConfig) -> Void, _ body: (Application) async throws -> Void
    ) async throws {
        var config = app.meander.config
        adjust(&config)
        let second = try await Application.make(.testing)
        second.logger.logLevel = .warning
        do {
            try await configure(second, config: config)
            try await body(second)
        } catch {
            try? await second.asyncShutdown()
            throw error
        }
        try await second.asyncShutdown()
    }

    /// The data keys as stored: every column of every row of `organization_data_keys`.
    struct StoredDataKey: Decodable, Sendable {
        var id: UUID
        var organizationID: UUID
        var version: Int
        var wrappedKey: Data
        var masterKeyID: String

        enum CodingKeys: String, CodingKey {
            case id, version
            case organizationID = "organization_id"
            case wrappedKey = "wrapped_key"
            case masterKeyID = "master_key_id"
        }
    }

    static func storedDataKeys(_ app: Application) async throws -> [StoredDataKey] {
        try await app.db.sqlDatabase().raw(
            "SELECT id, organization_id, version, wrapped_key, master_key_id FROM organization_data_keys ORDER BY version"
        ).all(decoding: StoredDataKey.self)
    }

    /// The raw bytes of the SQLite database file and its write-ahead log (nil on PostgreSQL).
    static func sqliteFileBytes(_ app: Application) -> Data? {
        guard case .sqlite(let path) = app.meander.config.database else { return nil }
        var bytes = FileManager.default.contents(atPath: path) ?? Data()
        bytes.append(FileManager.default.contents(atPath: path + "-wal") ?? Data())
        return bytes
    }

    static func bytes(of key: SymmetricKey) -> Data {
        key.withUnsafeBytes { Data($0) }
    }

    static func hex(_ data: Data) -> String {
        data.map { String(format: "%02x", $0) }.joined()
    }

    /// The newest audit entries with `action`.
    static func auditEntries(_ app: Application, action: String) async throws -> [AuditLogEntry] {
        try await AuditLogEntry.query(on: app.db).filter(\.$action == action).sort(\.$sequence).all()
    }
}

/// A flag shared between racing tasks.
actor CryptoFlag {
    private(set) var isSet = false

    func set() {
        isSet = true
    }
}

extension Data {
    /// Whether `needle` occurs anywhere in these bytes.
    func containsBytes(_ needle: Data) -> Bool {
        !needle.isEmpty && range(of: needle) != nil
    }
}
