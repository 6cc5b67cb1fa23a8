import Crypto
import Fluent
import FluentSQL
import Foundation
import Vapor

/// `Idempotency-Key` on the creating POSTs that declare it in the contract (draft-ietf-httpapi-idempotency-key).
///
/// The first request with a key claims it (a row unique per user and key) before the handler runs, and stores the
/// answer afterwards. A retry with the same key and the same request replays the stored answer (with
/// `Idempotent-Replayed: true`); the same key with another request answers 422; a retry while the first is still
/// running answers 409 with `Retry-After`. Keys are scoped to the signed-in user and kept for 24 hours. Server
/// errors are not stored, so that a retry can succeed. Stored answers can hold special-category data (a created
/// contact's needs), so their bodies are sealed (AES-GCM, a key derived from the master key, bound to the row) and
/// are deleted when they expire.
struct IdempotencyMiddleware: AsyncMiddleware {
    let contract: OpenAPIContract
    /// The current key first, then those derived from previous master keys (still readable during a rotation).
    let sealingKeys: [SymmetricKey]

    init(contract: OpenAPIContract, masterKey: SecretKey, previousMasterKeys: [SecretKey] = []) {
        self.contract = contract
        sealingKeys = ([masterKey] + previousMasterKeys).map { master in
            HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: master.bytes), info: Data("meander-idempotency-v1".utf8),
                outputByteCount: 32)
        }
    }
    static let header = "Idempotency-Key"
    static let lifetime: TimeInterval = 24 * 3600

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard request.method == .POST, let key = request.headers.first(name: Self.header),
            let operation = request.contractOperation(in: contract),
            operation.parameters.contains(where: { $0.location == .header && $0.name == Self.header }),
            let principal = request.principal
        else { return try await next.respond(to: request) }
        if let error = TextRule.violation(in: key, at: Self.header) {
            throw AppError(.invalidParameter, "Invalid parameter(s): \(Self.header).", fieldErrors: [error])
        }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw AppError.invalidParameter(Self.header, "Use 1 to 255 printable ASCII characters without spaces.")
        }
        let fingerprint = Self.fingerprint(request)
        let now = request.now

        switch try await claim(
            key, user: principal.userID, fingerprint: fingerprint, now: now, ids: request.dependencies.uuid,
            on: request.db)
        {
        case .claimed(let id):
            let response: Response
            do {
                response = try await next.respond(to: request)
            } catch {
                try? await IdempotencyKey.query(on: request.db).filter(\.$id == id).delete()
                throw error
            }
            if response.status.code >= 500 {
                try await IdempotencyKey.query(on: request.db).filter(\.$id == id).delete()
            } else {
                // The transport streams bodies: collect it once, keep a copy and send the same bytes.
                let collected = try await response.body.collect(on: request.eventLoop).get()
                response.body = collected.map { .init(buffer: $0) } ?? .empty
                try await store(response, body: collected.map { Data(buffer: $0) }, in: id, on: request.db)
            }
            return response
        case .replay(let stored):
            request.markAuthorizedByReplay()
            return stored
        }
    }

    private enum Claim {
        case claimed(UUID)
        case replay(Response)
    }

    /// Claims the key with one insert; a key already held is replayed, refused or, when expired, taken over.
    private func claim(
        _ key: String, user: UUID, fingerprint: String, now: Date, ids: UUIDSource, on db: any Database
    ) async throws -> Claim {
        for _ in 0..<2 {
            let id = ids()
            let inserted = try await db.sqlDatabase().raw(
                """
                INSERT INTO idempotency_keys (id, created_at, user_id, "key", request_hash, expires_at)
                VALUES (\(bind: id), \(bind: now), \(bind: user), \(bind: key), \(bind: fingerprint),
                        \(bind: now.addingTimeInterval(Self.lifetime)))
                ON CONFLICT (user_id, "key") DO NOTHING
                RETURNING id
                """
            ).all()
            if !inserted.isEmpty {
                // Expired answers of this user go as soon as they are no longer needed.
                try await IdempotencyKey.query(on: db).filter(\.$user.$id == user).filter(\.$expiresAt <= now).delete()
                return .claimed(id)
            }
            guard
                let held = try await IdempotencyKey.query(on: db)
                    .filter(\.$user.$id == user).filter(\.$key == key).first()
            else { continue }
            if held.expiresAt <= now {
                try await IdempotencyKey.query(on: db).filter(\.$id == held.requireID())
                    .filter(\.$expiresAt <= now).delete()
                continue
            }
            guard held.requestHash == fingerprint else {
                throw AppError(
                    .unprocessable,
                    "This Idempotency-Key was used for a different request. Use a new key for a new request.")
            }
            guard let status = held.responseStatus else {
                throw AppError(
                    .conflict, "A request with this Idempotency-Key is still being processed; retry shortly.",
                    headers: [("Retry-After", "1")])
            }
            let body = try held.responseBody.map { sealed in
                guard let opened = open(sealed, row: try held.requireID()) else {
                    throw AppError(.conflict, "The stored answer for this Idempotency-Key cannot be read; use a new key.")
                }
                return opened
            }
            return .replay(Self.response(status: status, headers: held.responseHeaders, body: body))
        }
        throw AppError(.conflict, "The Idempotency-Key is busy; retry shortly.", headers: [("Retry-After", "1")])
    }

    private func store(_ response: Response, body: Data?, in id: UUID, on db: any Database) async throws {
        var kept: [String: String] = [:]
        for name in ["Content-Type", "Location"] {
            if let value = response.headers.first(name: name) { kept[name] = value }
        }
        let sealed = try body.map { try AES.GCM.seal($0, using: sealingKeys[0], authenticating: Self.aad(id)).combined }
        try await IdempotencyKey.query(on: db).filter(\.$id == id)
            .set(\.$responseStatus, to: Int(response.status.code))
            .set(\.$responseBody, to: sealed ?? nil)
            .set(\.$responseHeaders, to: JSONText.encode(kept))
            .update()
    }

    private static func aad(_ row: UUID) -> Data { Data("meander-idempotency-v1|\(row.uuidString.lowercased())".utf8) }

    private func open(_ sealed: Data, row: UUID) -> Data? {
        guard let box = try? AES.GCM.SealedBox(combined: sealed) else { return nil }
        return sealingKeys.lazy.compactMap { try? AES.GCM.open(box, using: $0, authenticating: Self.aad(row)) }.first
    }

    private static func response(status: Int, headers: String?, body: Data?) -> Response {
        let response = Response(status: HTTPResponseStatus(statusCode: status))
        for (name, value) in headers.flatMap({ JSONText.decode([String: String].self, from: $0) }) ?? [:] {
            response.headers.replaceOrAdd(name: name, value: value)
        }
        response.headers.replaceOrAdd(name: "Idempotent-Replayed", value: "true")
        if let body { response.body = .init(data: body) }
        return response
    }

    /// The request as the key must match it: method, path with query, media type and body.
    static func fingerprint(_ request: Request) -> String {
        var hasher = SHA256()
        hasher.update(data: Data("\(request.method.rawValue) \(request.url.string)\n".utf8))
        hasher.update(data: Data((request.headers.first(name: .contentType) ?? "").utf8))
        hasher.update(data: Data("\n".utf8))
        if let body = request.body.data { hasher.update(data: Data(buffer: body)) }
        return Digest.hex(hasher.finalize())
    }
}
