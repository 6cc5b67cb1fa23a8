import Foundation
import Logging

/// Meander's whole configuration, read once from the environment at start-up.
///
/// Keys are the environment variable names. Tests build the struct directly.
public struct AppConfig: Sendable, Equatable {
    /// Where the data lives.
    public enum Database: Sendable, Equatable {
        /// An SQLite file at an absolute path.
        case sqlite(path: String)
        /// A PostgreSQL server.
        case postgres(url: String)

        var engineName: String {
            switch self {
            case .sqlite: "sqlite"
            case .postgres: "postgres"
            }
        }
    }

    /// How log lines are written.
    public enum LogFormat: String, Sendable, Equatable {
        case text, json
    }

    /// `DATABASE_URL`; default: `meander.sqlite` in the data directory.
    public var database: Database
    /// `MEANDER_DATA_DIR` (default `./.meander`), made absolute.
    public var dataDirectory: String
    /// `MEANDER_TOKEN_SIGNING_KEY` / `_FILE`: 32 bytes that sign access tokens.
    public var tokenSigningKey: SecretKey
    /// `MEANDER_MASTER_KEY` / `_FILE`: 32 bytes that wrap the organisations' data keys.
    public var masterKey: SecretKey
    /// `LOG_LEVEL` (default `info`).
    public var logLevel: Logger.Level
    /// `MEANDER_LOG_FORMAT`: `text` (default) or `json`.
    public var logFormat: LogFormat
    /// `MEANDER_MAX_BODY_SIZE`: the largest request body accepted, in bytes (default 1 MiB).
    public var maxBodySize: Int
    /// `MEANDER_DB_POOL_SIZE`: connections per event loop (default 4 on PostgreSQL).
    public var databasePoolSize: Int
    /// `MEANDER_ACCESS_TOKEN_TTL`: access-token lifetime in seconds (default and maximum 900).
    public var accessTokenLifetime: TimeInterval = 900
    /// `MEANDER_SESSION_IDLE_TIMEOUT`: a session unused this long (seconds) ends (default 14 days).
    public var sessionIdleTimeout: TimeInterval = 14 * 86_400
    /// `MEANDER_SESSION_MAX_LIFETIME`: a session ends this long (seconds) after sign-in, whatever (default 90 days).
    public var sessionMaxLifetime: TimeInterval = 90 * 86_400
    /// `MEANDER_REFRESH_GRACE_SECONDS`: how long a spent refresh token still returns its successor (default 10).
    public var refreshGracePeriod: TimeInterval = 10
    /// `MEANDER_PASSWORD_HASH_COST`: the bcrypt cost (default 12, at least 10; tests set it lower directly).
    public var passwordHashCost: Int = 12
    /// `MEANDER_PUBLIC_URL`: the base URL in links sent by e-mail (default `http://127.0.0.1:8080`).
    public var publicURL: String = "http://127.0.0.1:8080"
    /// `MEANDER_DEMO_PASSWORD`: the password of the demo logins (default `demo-password-2026`).
    public var demoPassword: String = "demo-password-2026"
    /// The sign-in and password-reset throttle rules (fixed in production; tests widen the windows).
    var loginThrottle = LoginThrottle.Policies()
    /// `MEANDER_MASTER_KEY_PREVIOUS` / `_FILE`: earlier master keys, still accepted for unwrapping data keys while
    /// `meander keys rotate` re-wraps them under `masterKey` (comma- or newline-separated base64; default none).
    public var previousMasterKeys: [SecretKey] = []
    /// Where evidence files are kept (`MEANDER_STORAGE`, default `local`).
    public var storage: Storage = .local(directory: "")
    /// `MEANDER_MAX_UPLOAD_SIZE`: the largest evidence file accepted, in bytes (default 15 MB).
    public var maxUploadSize: Int = 15_000_000
    /// `MEANDER_ACTIVITY_EARLIEST_DATE`: the earliest day an activity may be logged for (default 2000-01-01, UTC).
    public var activityEarliestDate: Date = Date(timeIntervalSince1970: 946_684_800)
    /// `MEANDER_ACTIVITY_FUTURE_MARGIN_HOURS`: how far past now an activity may be dated, for device clocks that run
    /// ahead (default 24 hours).
    public var activityFutureMargin: TimeInterval = 24 * 3_600
    /// `SMTP_URL`, `MAIL_FROM` and `SMTP_CA_FILE`: the e-mail channel's server and sender (default: none, no e-mail).
    var mail: SMTPConfiguration?
    /// `MEANDER_WORKERS`, `MEANDER_QUEUES` and the job timings: this node's job workers (see `JobWorkerConfiguration`).
    public var workers: JobWorkerConfiguration = .standard
    /// `APNS_*` and `FCM_*`: the push providers (default: none, no push).
    var push = PushConfiguration()
    /// `SMS_URL`, `SMS_FROM`, `SMS_TOKEN`, `SMS_CA_FILE`: the SMS provider (default: none, no SMS).
    var sms: SMSConfiguration?

    /// Where evidence files are kept.
    public enum Storage: Sendable, Equatable {
        /// A directory (default: `files` in the data directory).
        case local(directory: String)
        /// An S3-compatible object store.
        case s3(S3)
    }

    /// An S3-compatible bucket, addressed path-style (`endpoint/bucket/key`), signed with AWS Signature V4.
    public struct S3: Sendable, Equatable, CustomStringConvertible {
        /// `MEANDER_S3_ENDPOINT`, e.g. `https://s3.eu-north-1.amazonaws.com` or `http://127.0.0.1:5000`.
        public var endpoint: String
        /// `MEANDER_S3_BUCKET`.
        public var bucket: String
        /// `MEANDER_S3_REGION` (default `us-east-1`).
        public var region: String
        /// `MEANDER_S3_ACCESS_KEY_ID`.
        public var accessKeyID: String
        /// `MEANDER_S3_SECRET_ACCESS_KEY` / `_FILE`.
        public var secretAccessKey: String
        /// `MEANDER_S3_PRESIGN_SECONDS`: when set, downloads answer a redirect to a presigned URL valid this
        /// long (1–3600); when unset, the server streams the file itself.
        public var presignedDownloadLifetime: Int?

        public init(
            endpoint: String, bucket: String, region: String, accessKeyID: String, secretAccessKey: String,
            presignedDownloadLifetime: Int? = nil
        ) {
            self.endpoint = endpoint
            self.bucket = bucket
            self.region = region
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.presignedDownloadLifetime = presignedDownloadLifetime
        }

        /// Never the secret.
        public var description: String { "S3(endpoint: \(endpoint), bucket: \(bucket), region: \(region))" }
    }

    public init(
        database: Database,
        dataDirectory: String,
        tokenSigningKey: SecretKey,
        masterKey: SecretKey,
        logLevel: Logger.Level = .info,
        logFormat: LogFormat = .text,
        maxBodySize: Int = 1 << 20,
        databasePoolSize: Int = 4
    ) {
        self.database = database
        self.dataDirectory = dataDirectory
        self.storage = .local(directory: dataDirectory + "/files")
        self.tokenSigningKey = tokenSigningKey
        self.masterKey = masterKey
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.maxBodySize = maxBodySize
        self.databasePoolSize = databasePoolSize
    }
}

/// 32 bytes of key material; its description never shows the bytes.
public struct SecretKey: Sendable, Equatable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public static func random() -> SecretKey {
        var generator = SystemRandomNumberGenerator()
        return SecretKey(bytes: (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    public var description: String { "SecretKey(<redacted>)" }
}

/// Every problem found in the environment, reported together.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var problems: [String]

    public var description: String {
        "Meander cannot start: the configuration has \(problems.count) problem(s):\n"
            + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

extension AppConfig {
    static let tokenSigningKeyFile = "token-signing.key"
    static let masterKeyFile = "master.key"

    /// Reads and checks every setting, collecting all problems before failing.
    ///
    /// In the embedded (SQLite) default, missing secrets are generated into the data directory with mode 0600
    /// and reused on later starts. With PostgreSQL they must be given, because several stateless app nodes
    /// must share them.
    public static func load(
        from environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(ConfigError) -> AppConfig {
        var problems: [String] = []
        func value(_ key: String) -> String? {
            guard let raw = environment[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else {
                return nil
            }
            return raw
        }

        let (dataDirectory, named) = databaseSetting(from: environment, workingDirectory: workingDirectory)
        var database = Database.sqlite(path: dataDirectory + "/meander.sqlite")
        switch named {
        case .success(let found): database = found
        case .failure(let problem): problems.append("DATABASE_URL: \(problem.message)")
        }

        var logLevel = Logger.Level.info
        if let raw = value("LOG_LEVEL") {
            if let level = Logger.Level(rawValue: raw.lowercased()) {
                logLevel = level
            } else {
                problems.append(
                    "LOG_LEVEL: '\(raw)' is not one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        var logFormat = LogFormat.text
        if let raw = value("MEANDER_LOG_FORMAT") {
            if let format = LogFormat(rawValue: raw.lowercased()) {
                logFormat = format
            } else {
                problems.append("MEANDER_LOG_FORMAT: '\(raw)' is not one of text, json")
            }
        }

        func positiveInt(_ key: String, default defaultValue: Int, max: Int) -> Int {
            guard let raw = value(key) else { return defaultValue }
            guard let number = Int(raw), number > 0, number <= max else {
                problems.append("\(key): '\(raw)' is not a whole number between 1 and \(max)")
                return defaultValue
            }
            return number
        }
        let maxBodySize = positiveInt("MEANDER_MAX_BODY_SIZE", default: 1 << 20, max: 1 << 30)
        let poolSize = positiveInt("MEANDER_DB_POOL_SIZE", default: 4, max: 100)
        let accessTokenLifetime = positiveInt("MEANDER_ACCESS_TOKEN_TTL", default: 900, max: 900)
        let idleTimeout = positiveInt("MEANDER_SESSION_IDLE_TIMEOUT", default: 14 * 86_400, max: 365 * 86_400)
        let maxLifetime = positiveInt("MEANDER_SESSION_MAX_LIFETIME", default: 90 * 86_400, max: 730 * 86_400)
        let grace = positiveInt("MEANDER_REFRESH_GRACE_SECONDS", default: 10, max: 60)
        var hashCost = 12
        if let raw = value("MEANDER_PASSWORD_HASH_COST") {
            if let cost = Int(raw), (10...16).contains(cost) {
                hashCost = cost
            } else {
                problems.append("MEANDER_PASSWORD_HASH_COST: '\(raw)' is not a whole number between 10 and 16")
            }
        }
        let publicURL = value("MEANDER_PUBLIC_URL") ?? "http://127.0.0.1:8080"
        let publicComponents = URLComponents(string: publicURL)
        if !["http", "https"].contains(publicComponents?.scheme ?? "") || (publicComponents?.host ?? "").isEmpty {
            problems.append("MEANDER_PUBLIC_URL: '\(publicURL)' is not an http(s) URL")
        }
        let demoPassword = value("MEANDER_DEMO_PASSWORD") ?? "demo-password-2026"
        if demoPassword.count < 8 {
            problems.append("MEANDER_DEMO_PASSWORD: must be at least 8 characters")
        }

        let maxUploadSize = positiveInt("MEANDER_MAX_UPLOAD_SIZE", default: 15_000_000, max: 1 << 30)
        let futureMarginHours = positiveInt("MEANDER_ACTIVITY_FUTURE_MARGIN_HOURS", default: 24, max: 24 * 31)
        var activityEarliestDate = Date(timeIntervalSince1970: 946_684_800)
        if let raw = value("MEANDER_ACTIVITY_EARLIEST_DATE") {
            if RFC3339.isFullDate(Array(raw.utf8)), let date = RFC3339.date(from: raw + "T00:00:00Z"),
                date.timeIntervalSince1970 >= 0
            {
                activityEarliestDate = date
            } else {
                problems.append("MEANDER_ACTIVITY_EARLIEST_DATE: '\(raw)' is not a date (YYYY-MM-DD) from 1970 on")
            }
        }
        var storage = Storage.local(directory: dataDirectory + "/files")
        switch value("MEANDER_STORAGE")?.lowercased() ?? "local" {
        case "local":
            if let directory = value("MEANDER_STORAGE_DIR") {
                storage = .local(directory: absolutePath(directory, relativeTo: workingDirectory))
            }
        case "s3":
            var secret = value("MEANDER_S3_SECRET_ACCESS_KEY")
            if secret == nil, let file = value("MEANDER_S3_SECRET_ACCESS_KEY_FILE") {
                secret = (try? String(contentsOfFile: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                if secret == nil { problems.append("MEANDER_S3_SECRET_ACCESS_KEY_FILE: cannot read '\(file)'") }
            }
            let required = [
                ("MEANDER_S3_ENDPOINT", value("MEANDER_S3_ENDPOINT")), ("MEANDER_S3_BUCKET", value("MEANDER_S3_BUCKET")),
                ("MEANDER_S3_ACCESS_KEY_ID", value("MEANDER_S3_ACCESS_KEY_ID")), ("MEANDER_S3_SECRET_ACCESS_KEY", secret),
            ]
            for (key, given) in required where given == nil {
                problems.append("\(key): required when MEANDER_STORAGE=s3")
            }
            let endpoint = value("MEANDER_S3_ENDPOINT") ?? ""
            let endpointComponents = URLComponents(string: endpoint)
            if !endpoint.isEmpty,
                !["http", "https"].contains(endpointComponents?.scheme ?? "") || (endpointComponents?.host ?? "").isEmpty
            {
                problems.append("MEANDER_S3_ENDPOINT: '\(endpoint)' is not an http(s) URL")
            }
            let presign: Int? =
                value("MEANDER_S3_PRESIGN_SECONDS") == nil
                ? nil : positiveInt("MEANDER_S3_PRESIGN_SECONDS", default: 300, max: 3600)
            storage = .s3(
                S3(
                    endpoint: endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint,
                    bucket: value("MEANDER_S3_BUCKET") ?? "", region: value("MEANDER_S3_REGION") ?? "us-east-1",
                    accessKeyID: value("MEANDER_S3_ACCESS_KEY_ID") ?? "", secretAccessKey: secret ?? "",
                    presignedDownloadLifetime: presign))
        case let other:
            problems.append("MEANDER_STORAGE: '\(other)' is not one of local, s3")
        }
        var mail: SMTPConfiguration?
        switch (value("SMTP_URL"), value("MAIL_FROM")) {
        case (let url?, let from?):
            do {
                mail = try SMTPConfiguration.parse(url: url, from: from, caFile: value("SMTP_CA_FILE"))
            } catch {
                problems += error.messages
            }
            if let file = mail?.trustRootsFile, !FileManager.default.isReadableFile(atPath: file) {
                problems.append("SMTP_CA_FILE: cannot read '\(file)'")
            }
        case (_?, nil): problems.append("MAIL_FROM: required when SMTP_URL is set")
        case (nil, _?): problems.append("SMTP_URL: required when MAIL_FROM is set")
        case (nil, nil): break
        }
        var push = PushConfiguration()
        do {
            push = try PushConfiguration.parse(environment: environment)
        } catch {
            problems += error.messages
        }
        var sms: SMSConfiguration?
        do {
            sms = try SMSConfiguration.parse(environment: environment)
        } catch {
            problems += error.messages
        }
        var workers = JobWorkerConfiguration.standard
        do {
            workers = try JobWorkerConfiguration.parse(environment: environment)
        } catch {
            problems += error.messages
        }
        let previousMasterKeys = readSecretList(
            "MEANDER_MASTER_KEY_PREVIOUS", environment: environment, problems: &problems)

        let isEmbedded = if case .sqlite = database { true } else { false }
        // Secrets are only generated into the data directory once everything else is known to be right, so that a
        // mistyped setting never leaves files behind.
        let mayGenerate = problems.isEmpty
        func secret(_ key: String, file fileName: String) -> SecretKey {
            if let given = readSecret(key, environment: environment, problems: &problems) {
                return given
            }
            if problems.contains(where: { $0.hasPrefix(key) }) { return .random() }
            guard isEmbedded else {
                problems.append(
                    "\(key): required with PostgreSQL (set \(key) to base64 of 32 random bytes, or \(key)_FILE to a file holding it); generate one with `openssl rand -base64 32`"
                )
                return .random()
            }
            guard mayGenerate else { return .random() }
            do {
                return try loadOrCreateSecret(at: dataDirectory + "/" + fileName)
            } catch {
                problems.append("\(key): could not create or read \(dataDirectory)/\(fileName): \(error)")
                return .random()
            }
        }
        let tokenSigningKey = secret("MEANDER_TOKEN_SIGNING_KEY", file: tokenSigningKeyFile)
        let masterKey = secret("MEANDER_MASTER_KEY", file: masterKeyFile)

        guard problems.isEmpty else { throw ConfigError(problems: problems) }
        var config = AppConfig(
            database: database,
            dataDirectory: dataDirectory,
            tokenSigningKey: tokenSigningKey,
            masterKey: masterKey,
            logLevel: logLevel,
            logFormat: logFormat,
            maxBodySize: maxBodySize,
            databasePoolSize: poolSize
        )
        config.accessTokenLifetime = TimeInterval(accessTokenLifetime)
        config.sessionIdleTimeout = TimeInterval(idleTimeout)
        config.sessionMaxLifetime = TimeInterval(maxLifetime)
        config.refreshGracePeriod = TimeInterval(grace)
        config.passwordHashCost = hashCost
        config.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        config.demoPassword = demoPassword
        config.maxUploadSize = maxUploadSize
        config.activityFutureMargin = TimeInterval(futureMarginHours) * 3_600
        config.activityEarliestDate = activityEarliestDate
        config.storage = storage
        config.previousMasterKeys = previousMasterKeys
        config.mail = mail
        config.workers = workers
        config.push = push
        config.sms = sms
        return config
    }

    struct URLProblem: Error {
        var message: String
    }

    /// The data directory and the database the environment names, found without reading or creating any file (so
    /// that help and usage errors touch nothing). `load` reports a malformed `DATABASE_URL` among its problems.
    static func databaseSetting(
        from environment: [String: String], workingDirectory: String
    ) -> (dataDirectory: String, database: Result<Database, URLProblem>) {
        func value(_ key: String) -> String? {
            guard let raw = environment[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else {
                return nil
            }
            return raw
        }
        let dataDirectory = absolutePath(value("MEANDER_DATA_DIR") ?? ".meander", relativeTo: workingDirectory)
        guard let url = value("DATABASE_URL") else {
            return (dataDirectory, .success(.sqlite(path: dataDirectory + "/meander.sqlite")))
        }
        do {
            return (dataDirectory, .success(try parseDatabaseURL(url, workingDirectory: workingDirectory)))
        } catch {
            return (dataDirectory, .failure(error))
        }
    }

    /// The database the environment names (see `databaseSetting`); nil when `DATABASE_URL` is malformed.
    static func database(from environment: [String: String], workingDirectory: String) -> Database? {
        try? databaseSetting(from: environment, workingDirectory: workingDirectory).database.get()
    }

    /// Parses `sqlite:///absolute/path`, `sqlite://relative/path` or `postgres://user:pass@host:port/db`.
    static func parseDatabaseURL(_ raw: String, workingDirectory: String) throws(URLProblem) -> Database {
        let sqlitePrefix = "sqlite://"
        if raw.hasPrefix(sqlitePrefix) {
            let path = String(raw.dropFirst(sqlitePrefix.count))
            guard !path.isEmpty, path != "/" else {
                throw URLProblem(message: "'\(raw)' names no file; use sqlite:///absolute/path or sqlite://relative/path")
            }
            return .sqlite(path: absolutePath(path, relativeTo: workingDirectory))
        }
        guard let components = URLComponents(string: raw), let scheme = components.scheme?.lowercased() else {
            throw URLProblem(message: "'\(redacted(raw))' is not a URL; expected sqlite://… or postgres://…")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw URLProblem(
                message:
                    "unsupported scheme '\(scheme)'; expected sqlite:///absolute/path, sqlite://relative/path or postgres://user:pass@host:port/db"
            )
        }
        guard let host = components.host, !host.isEmpty else {
            throw URLProblem(message: "'\(redacted(raw))' has no host")
        }
        let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard !database.isEmpty else {
            throw URLProblem(message: "'\(redacted(raw))' names no database (postgres://user:pass@host:port/db)")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw URLProblem(message: "port \(port) is out of range")
        }
        return .postgres(url: raw)
    }

    /// The URL with its password replaced, for messages.
    static func redacted(_ raw: String) -> String {
        guard var components = URLComponents(string: raw), components.password != nil else { return raw }
        components.password = "***"
        return components.string ?? "<unparseable>"
    }

    static func absolutePath(_ path: String, relativeTo base: String) -> String {
        let url =
            path.hasPrefix("/")
            ? URL(fileURLWithPath: path) : URL(fileURLWithPath: base).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }

    private static func readSecret(
        _ key: String, environment: [String: String], problems: inout [String]
    ) -> SecretKey? {
        var encoded = environment[key]?.trimmingCharacters(in: .whitespacesAndNewlines)
        var source = key
        if encoded?.isEmpty ?? true, let file = environment[key + "_FILE"], !file.isEmpty {
            source = key + "_FILE"
            do {
                encoded = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                problems.append("\(source): cannot read '\(file)'")
                return nil
            }
        }
        guard let encoded, !encoded.isEmpty else { return nil }
        guard let data = Data(base64Encoded: encoded), data.count == 32 else {
            problems.append("\(source): must be base64 of exactly 32 bytes")
            return nil
        }
        return SecretKey(bytes: Array(data))
    }

    /// Reads a list of 32-byte keys (base64, separated by commas or newlines) from `key` or the file `key_FILE`.
    private static func readSecretList(
        _ key: String, environment: [String: String], problems: inout [String]
    ) -> [SecretKey] {
        var text = environment[key] ?? ""
        var source = key
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, let file = environment[key + "_FILE"],
            !file.isEmpty
        {
            source = key + "_FILE"
            guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
                problems.append("\(source): cannot read '\(file)'")
                return []
            }
            text = contents
        }
        var keys: [SecretKey] = []
        let items = text.split(whereSeparator: { $0 == "," || $0.isNewline })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for (index, item) in items.enumerated() {
            guard let data = Data(base64Encoded: item), data.count == 32 else {
                problems.append("\(source): item \(index + 1) is not base64 of exactly 32 bytes")
                continue
            }
            keys.append(SecretKey(bytes: Array(data)))
        }
        return keys
    }

    /// Reads a generated secret, or creates one with mode 0600 (and its directory with 0700).
    static func loadOrCreateSecret(at path: String) throws -> SecretKey {
        let fileManager = FileManager.default
        if let contents = fileManager.contents(atPath: path) {
            let text = String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let data = Data(base64Encoded: text), data.count == 32 else {
                throw URLProblem(message: "the file does not hold base64 of 32 bytes")
            }
            return SecretKey(bytes: Array(data))
        }
        let directory = (path as NSString).deletingLastPathComponent
        try fileManager.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = SecretKey.random()
        let encoded = Data(key.bytes).base64EncodedString() + "\n"
        guard fileManager.createFile(atPath: path, contents: Data(encoded.utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw URLProblem(message: "cannot write the file")
        }
        return key
    }
}
