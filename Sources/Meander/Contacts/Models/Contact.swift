import FluentKit
import Foundation

/// A person receiving peer support (not a user of the system).
///
/// Municipality and county codes stay in clear for statistics. Needs/diagnosis and notes are special-category data
/// and exist only as ciphertext (`needs_ciphertext`, `notes_ciphertext`, under `key_version`). Erasure clears the
/// identifying columns and sets `erased_at`, keeping the row (and its codes and birth year) for past reports.
final class Contact: Model, @unchecked Sendable {
    static let schema = "contacts"

    /// Whether the contact is being followed up.
    enum Status: String, Codable, CaseIterable, Sendable {
        case active
        case inactive
        case archived
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    @Timestamp(key: "deleted_at", on: .delete)
    var deletedAt: Date?

    // references

    @Parent(key: "organization_id")
    var organization: Organization

    @OptionalParent(key: "created_by_id")
    var createdBy: User?

    @Children(for: \.$contact)
    var mentorAssignments: [ContactMentorAssignment]

    // data

    /// NULL after erasure.
    @OptionalField(key: "first_name")
    var firstName: String?

    @OptionalField(key: "last_name")
    var lastName: String?

    @OptionalField(key: "birth_year")
    var birthYear: Int?

    @OptionalField(key: "phone")
    var phone: String?

    @OptionalField(key: "address")
    var address: String?

    @OptionalField(key: "postal_code")
    var postalCode: String?

    @OptionalField(key: "postal_place")
    var postalPlace: String?

    /// Four-digit municipality number (kommunenummer), from `municipalities-2024.csv`.
    @OptionalField(key: "municipality_code")
    var municipalityCode: String?

    /// Two-digit county number (fylkesnummer).
    @OptionalField(key: "county_code")
    var countyCode: String?

    @Field(key: "status")
    var status: Status

    @OptionalField(key: "consent_given_at")
    var consentGivenAt: Date?

    /// What the consent covers, e.g. `registration` or `registration,contact_by_phone`.
    @OptionalField(key: "consent_scope")
    var consentScope: String?

    @OptionalField(key: "consent_withdrawn_at")
    var consentWithdrawnAt: Date?

    @OptionalField(key: "needs_ciphertext")
    var needsCiphertext: Data?

    @OptionalField(key: "notes_ciphertext")
    var notesCiphertext: Data?

    @OptionalField(key: "key_version")
    var keyVersion: Int?

    @OptionalField(key: "erased_at")
    var erasedAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        firstName: String?,
        lastName: String?,
        birthYear: Int? = nil,
        phone: String? = nil,
        address: String? = nil,
        postalCode: String? = nil,
        postalPlace: String? = nil,
        municipalityCode: String? = nil,
        countyCode: String? = nil,
        status: Status = .active,
        consentGivenAt: Date? = nil,
        consentScope: String? = nil,
        createdByID: UUID? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.firstName = firstName
        self.lastName = lastName
        self.birthYear = birthYear
        self.phone = phone
        self.address = address
        self.postalCode = postalCode
        self.postalPlace = postalPlace
        self.municipalityCode = municipalityCode
        self.countyCode = countyCode
        self.status = status
        self.consentGivenAt = consentGivenAt
        self.consentScope = consentScope
        self.$createdBy.id = createdByID
    }
}
