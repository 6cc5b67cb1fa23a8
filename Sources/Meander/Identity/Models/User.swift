import FluentKit
import Foundation

/// A person who logs in to Meander: a peer mentor, coordinator or administrator.
///
/// `email` is stored normalised (trimmed, lowercased) and is unique; a CHECK (`email = lower(email)`) keeps any
/// writer from storing a mixed-case copy, which makes the unique constraint case-insensitive on both engines.
final class User: Model, @unchecked Sendable {
    static let schema = "users"

    /// User interface language.
    enum Language: String, Codable, CaseIterable, Sendable {
        case nb
        case nn
        case en
    }

    /// Account lifecycle; `deleted` keeps the row (history refers to it) but nothing can use it.
    enum Status: String, Codable, CaseIterable, Sendable {
        case pending
        case active
        case suspended
        case deleted
    }

    /// A login identity at an external provider.
    struct ExternalIdentity: Codable, Hashable, Sendable {
        enum Provider: String, Codable, CaseIterable, Sendable {
            case idPorten = "id_porten"
            case bankID = "bankid"
            case vipps
        }

        var provider: Provider
        var subject: String
    }

    static let defaultTimeZone = "Europe/Oslo"

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // data

    @Field(key: "email")
    var email: String

    @OptionalField(key: "phone")
    var phone: String?

    /// A slow, salted hash (PHC string); NULL until the user sets a password or when they only use external login.
    @OptionalField(key: "password_hash")
    var passwordHash: String?

    @OptionalField(key: "password_changed_at")
    var passwordChangedAt: Date?

    @Field(key: "first_name")
    var firstName: String

    @Field(key: "last_name")
    var lastName: String

    @Field(key: "locale")
    var locale: Language

    /// IANA time zone name.
    @Field(key: "time_zone")
    var timeZone: String

    @Field(key: "status")
    var status: Status

    @OptionalField(key: "email_verified_at")
    var emailVerifiedAt: Date?

    @Field(key: "failed_login_count")
    var failedLoginCount: Int

    @OptionalField(key: "locked_until")
    var lockedUntil: Date?

    @OptionalField(key: "last_login_at")
    var lastLoginAt: Date?

    /// JSON array of `ExternalIdentity`; use `externalIdentities`.
    @Field(key: "external_identities")
    var externalIdentitiesJSON: String

    init() {}

    init(
        id: UUID? = nil,
        email: String,
        firstName: String,
        lastName: String,
        passwordHash: String? = nil,
        phone: String? = nil,
        locale: Language = .nb,
        timeZone: String = User.defaultTimeZone,
        status: Status = .pending,
        emailVerifiedAt: Date? = nil,
        externalIdentities: [ExternalIdentity] = []
    ) {
        self.id = id
        self.email = User.normalize(email: email)
        self.firstName = firstName
        self.lastName = lastName
        self.passwordHash = passwordHash
        self.phone = phone
        self.locale = locale
        self.timeZone = timeZone
        self.status = status
        self.emailVerifiedAt = emailVerifiedAt
        self.failedLoginCount = 0
        self.externalIdentitiesJSON = JSONText.encode(externalIdentities)
    }

    /// The form in which emails are stored and looked up.
    static func normalize(email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    var externalIdentities: [ExternalIdentity] {
        get { JSONText.decode([ExternalIdentity].self, from: externalIdentitiesJSON) ?? [] }
        set { externalIdentitiesJSON = JSONText.encode(newValue) }
    }
}
