import FluentKit
import Foundation

/// A mileage rate in øre per km with a validity period: global (state, tax-free, passenger supplement) or an
/// organisation's own.
///
/// Lookup for a trip date: the organisation's row of the wanted kind valid on that date, else the global one.
/// Dates are calendar dates as `yyyy-MM-dd` text (no time zone; they sort and compare as text); `valid_to` is
/// inclusive, NULL means open-ended.
final class MileageRate: Model, @unchecked Sendable {
    static let schema = "mileage_rates"

    /// Which rate a row gives.
    enum Kind: String, Codable, CaseIterable, Sendable {
        /// The state rate (statens sats).
        case state
        /// The tax-free rate.
        case taxFree = "tax_free"
        /// Supplement per passenger, on top of either.
        case passenger
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // references

    /// NULL for a global rate.
    @OptionalParent(key: "organization_id")
    var organization: Organization?

    // data

    @Field(key: "kind")
    var kind: Kind

    @Field(key: "ore_per_km")
    var orePerKm: Int

    @Field(key: "valid_from")
    var validFrom: String

    @OptionalField(key: "valid_to")
    var validTo: String?

    init() {}

    init(
        id: UUID? = nil,
        kind: Kind,
        orePerKm: Int,
        validFrom: String,
        validTo: String? = nil,
        organizationID: UUID? = nil
    ) {
        self.id = id
        self.kind = kind
        self.orePerKm = orePerKm
        self.validFrom = validFrom
        self.validTo = validTo
        self.$organization.id = organizationID
    }
}
