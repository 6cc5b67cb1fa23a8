import FluentKit
import Foundation

/// A client's `Idempotency-Key` for one unsafe request, with the stored response to replay on a retry.
///
/// The response columns are NULL while the first request is still in flight.
final class IdempotencyKey: Model, @unchecked Sendable {
    static let schema = "idempotency_keys"

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    // references

    @Parent(key: "user_id")
    var user: User

    // data

    @Field(key: "key")
    var key: String

    /// Hex SHA-256 over method, path and body; a retry with another hash is a conflict, not a replay.
    @Field(key: "request_hash")
    var requestHash: String

    @OptionalField(key: "response_status")
    var responseStatus: Int?

    @OptionalField(key: "response_body")
    var responseBody: Data?

    /// JSON object of replayed response headers.
    @OptionalField(key: "response_headers")
    var responseHeaders: String?

    @Field(key: "expires_at")
    var expiresAt: Date

    init() {}

    init(
        id: UUID? = nil,
        userID: UUID,
        key: String,
        requestHash: String,
        expiresAt: Date,
        responseStatus: Int? = nil,
        responseBody: Data? = nil,
        responseHeaders: String? = nil
    ) {
        self.id = id
        self.$user.id = userID
        self.key = key
        self.requestHash = requestHash
        self.expiresAt = expiresAt
        self.responseStatus = responseStatus
        self.responseBody = responseBody
        self.responseHeaders = responseHeaders
    }
}
