import Crypto
import Foundation
import Vapor

/// Cursor pagination shared by every list: the page size rules, and the opaque, URL-safe cursor that names the last
/// row of the previous page (see `Keyset` for how a list continues after it).
///
/// A cursor is the row's id with an HMAC over the list's name, the caller and that id, keyed from the token signing
/// key: a cursor made up by a client, or taken from another list or another caller, is `invalid_cursor` before
/// anything is read. Without that, a forged cursor naming another tenant's row would tell whether the row exists and,
/// through where the page starts, what its sort values are.
struct PageCursor: Equatable, Sendable {
    /// The id of the last row on the previous page.
    var id: UUID

    static let defaultLimit = 50
    static let maxLimit = 200
    private static let version: UInt8 = 1
    private static let tagLength = 16

    /// The cursor's text: base64url (no padding) of a version byte, the id's 16 bytes and a 16-byte tag.
    func encoded(list: String, caller: UUID?, key: SymmetricKey) -> String {
        var bytes = [Self.version]
        bytes += withUnsafeBytes(of: id.uuid) { Array($0) }
        bytes += Self.tag(list: list, caller: caller, id: id, key: key)
        return TokenService.base64URL(Data(bytes))
    }

    /// Decodes a cursor issued for `list` to `caller`; anything else is `invalid_cursor`.
    static func decode(_ raw: String?, list: String, caller: UUID?, key: SymmetricKey) throws(AppError) -> PageCursor? {
        guard let raw else { return nil }
        var base64 = raw.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), data.count == 1 + 16 + tagLength, data.first == version else {
            throw invalid
        }
        let bytes = Array(data)
        let id = bytes[1...16].withUnsafeBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) }
        guard Array(bytes[17...]) == tag(list: list, caller: caller, id: id, key: key) else { throw invalid }
        return PageCursor(id: id)
    }

    /// The key that signs cursors, derived once at start-up (`Meander.pageCursorKey`) from the token signing key,
    /// so that every node of a deployment accepts every other node's cursors, and a new signing key retires the old
    /// cursors with the old tokens.
    static func key(signingKey: SecretKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: signingKey.bytes), info: Data("meander-page-cursor-v1".utf8),
            outputByteCount: 32)
    }

    private static func tag(list: String, caller: UUID?, id: UUID, key: SymmetricKey) -> [UInt8] {
        let message = "\(version)|\(list)|\(caller?.uuidString.lowercased() ?? "-")|\(id.uuidString.lowercased())"
        return Array(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key).prefix(tagLength))
    }

    /// The error for a cursor this API did not issue (to this caller, for this list).
    static var invalid: AppError {
        AppError(
            .invalidCursor, "The cursor is not one this API issued; start again without it.",
            fieldErrors: [.init(field: "cursor", code: "invalid_value", message: "Unknown or corrupted cursor.")])
    }

    /// The error for a cursor whose row has since been deleted: where the list continues is no longer known.
    static var gone: AppError {
        AppError(
            .invalidCursor, "The last item of the previous page no longer exists; start again without the cursor.",
            fieldErrors: [.init(field: "cursor", code: "invalid_value", message: "The cursor's item was deleted.")])
    }

    /// Checks a requested page size against 1…`maxLimit`.
    static func limit(_ requested: Int?) throws(AppError) -> Int {
        guard let requested else { return defaultLimit }
        guard (1...maxLimit).contains(requested) else {
            throw AppError.invalidParameter(
                "limit", code: "out_of_range", "must be between 1 and \(maxLimit), not \(requested).")
        }
        return requested
    }
}
