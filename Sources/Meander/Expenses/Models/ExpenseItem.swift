import FluentKit
import Foundation

/// One line of an expense claim.
///
/// Mileage lines keep what the amount was computed from: distance in metres, passengers and the rates applied
/// (øre per km), so a later rate change never alters a past claim. `incurred_on` is a calendar date `yyyy-MM-dd`.
final class ExpenseItem: Model, @unchecked Sendable {
    static let schema = "expense_items"

    /// What the line reimburses.
    enum Kind: String, Codable, CaseIterable, Sendable {
        case mileage
        case toll
        case parking
        case publicTransport = "public_transport"
        case accommodation
        case meal
        case driverHonorarium = "driver_honorarium"
        case other
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // references

    @Parent(key: "organization_id")
    var organization: Organization

    @Parent(key: "claim_id")
    var claim: ExpenseClaim

    /// The activity the cost was incurred for, if any.
    @OptionalParent(key: "activity_id")
    var activity: Activity?

    @Children(for: \.$item)
    var receipts: [Receipt]

    // data

    @Field(key: "kind")
    var kind: Kind

    @Field(key: "incurred_on")
    var incurredOn: String

    @Field(key: "amount_ore")
    var amountOre: Int

    /// Short description of the cost or route; no health information.
    @OptionalField(key: "note")
    var note: String?

    @OptionalField(key: "distance_meters")
    var distanceMeters: Int?

    @Field(key: "passenger_count")
    var passengerCount: Int

    @OptionalField(key: "rate_ore_per_km")
    var rateOrePerKm: Int?

    @OptionalField(key: "passenger_rate_ore_per_km")
    var passengerRateOrePerKm: Int?

    @OptionalField(key: "from_place")
    var fromPlace: String?

    @OptionalField(key: "to_place")
    var toPlace: String?

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        claimID: UUID,
        kind: Kind,
        incurredOn: String,
        amountOre: Int,
        note: String? = nil,
        distanceMeters: Int? = nil,
        passengerCount: Int = 0,
        rateOrePerKm: Int? = nil,
        passengerRateOrePerKm: Int? = nil,
        fromPlace: String? = nil,
        toPlace: String? = nil,
        activityID: UUID? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.$claim.id = claimID
        self.kind = kind
        self.incurredOn = incurredOn
        self.amountOre = amountOre
        self.note = note
        self.distanceMeters = distanceMeters
        self.passengerCount = passengerCount
        self.rateOrePerKm = rateOrePerKm
        self.passengerRateOrePerKm = passengerRateOrePerKm
        self.fromPlace = fromPlace
        self.toPlace = toPlace
        self.$activity.id = activityID
    }
}
