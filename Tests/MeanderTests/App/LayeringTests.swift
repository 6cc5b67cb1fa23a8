import Foundation
import Testing

/// The house rules that the folder tree promises, read from the sources: services know no HTTP, and time and ids
/// come from the app's dependencies. A new capability that copies the wrong pattern fails here, naming the file.
@Suite("Layering")
struct LayeringTests {
    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Meander")

    /// Every Swift file of the library, by its path below `Sources/Meander`.
    static func files() throws -> [(path: String, text: String)] {
        let enumerator = try #require(FileManager.default.enumerator(atPath: sources.path))
        var files: [(String, String)] = []
        while let path = enumerator.nextObject() as? String {
            guard path.hasSuffix(".swift") else { continue }
            files.append((path, try String(contentsOf: sources.appendingPathComponent(path), encoding: .utf8)))
        }
        return files.sorted { $0.0 < $1.0 }
    }

    /// Where HTTP may be spoken: the HTTP folder, handler files (`…API.swift`, `…+API.swift`), middleware, the
    /// operations endpoints, `configure`, and the storage clients (which speak HTTP to S3, not to our callers).
    static func mayKnowHTTP(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        return path.hasPrefix("HTTP/") || path.hasPrefix("Operations/") || path.hasPrefix("Storage/")
            || name.contains("API") || name.contains("Middleware") || name == "configure.swift"
    }

    @Test("services, models and rules never see a Request, the wire types or the contract")
    func servicesKnowNoHTTP() throws {
        let markers = ["RequestContext", "Components.Schemas", "OpenAPIContract", ": Request", "request: Request"]
        var offenders: [String] = []
        for (path, text) in try Self.files() where !Self.mayKnowHTTP(path) {
            for marker in markers where text.contains(marker) {
                offenders.append("\(path): \(marker)")
            }
        }
        #expect(offenders.isEmpty, "HTTP outside the HTTP layer:\n\(offenders.joined(separator: "\n"))")
    }

    @Test("handlers and views reach the database only through services")
    func handlersCallServices() throws {
        // A handler maps the wire to a service's input and the service's result to the wire; a view is a pure
        // function of that result. Reading, writing and auditing are the service's.
        let markers = [
            "writeTransaction", "auditedWrite", "AuditLog.append", "sqlDatabase()", ".query(on:", ".find(",
            ".create(on:", ".save(on:", ".update(on:", ".delete(on:",
        ]
        var offenders: [String] = []
        for (path, text) in try Self.files() where (path as NSString).lastPathComponent.contains("API") {
            for marker in markers where text.contains(marker) {
                offenders.append("\(path): \(marker)")
            }
        }
        #expect(offenders.isEmpty, "Database access in a handler or view:\n\(offenders.joined(separator: "\n"))")
    }

    @Test("services take time and new ids from the app's dependencies")
    func noMachineClockInServices() throws {
        // Model initialisers' defaults (demo data, fixtures), migrations' seed rows, the demo generator, and the
        // clock's own live value are where the machine's clock belongs.
        let allowed: (String) -> Bool = { path in
            path.hasPrefix("Demo/") || path.contains("/Migrations/") || path.contains("/Models/")
                || path == "App/Dependencies.swift"
        }
        // Left on purpose, each with its reason in the code: temporary file names, the cipher's data-key rows, the
        // audit entry's id and its fallback time, the login throttle's rows, S3's signing clock, and defaults of
        // parameters that every request path passes.
        let known: Set<String> = [
            "Storage/LocalBlobStore.swift", "Storage/S3BlobStore.swift", "Crypto/FieldCipher.swift",
            "Crypto/FieldCipher+Rotation.swift", "Audit/AuditLog.swift", "Identity/LoginThrottle+Store.swift",
            "Identity/Session+Revocation.swift", "Contacts/ContactRules.swift", "HTTP/Contract/InputRules.swift",
            "Reporting/BufdirExport.swift", "Reporting/BufdirExport+Audit.swift", "Reporting/BufdirReportEngine.swift",
            "Reporting/BufdirExportsAPI.swift",
        ]
        var offenders: [String] = []
        for (path, text) in try Self.files() where !allowed(path) && !known.contains(path) {
            if text.contains("Date()") || text.contains("UUID()") { offenders.append(path) }
        }
        #expect(offenders.isEmpty, "Date() or UUID() outside the app's dependencies:\n\(offenders.joined(separator: "\n"))")
    }
}
