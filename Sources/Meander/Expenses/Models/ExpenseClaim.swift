import FluentKit
import Foundation

/// A claimant's reimbursement request, made of items, with its approval and payout.
///
/// The database refuses a decision by the claimant (`decided_by_id <> claimant_id`). An approval by rule has
/// `decision_method = auto_rule` and no `decided_by_id`.
final class ExpenseClaim: Model, @unchecked Sendable {
    static let schema = "expense_claims"

    /// Claim lifecycle.
    enum Status: String, Codable, CaseIterable, Sendable {
        case draft
        case submitted
        case approved
        case rejected
        case paid
        case cancelled
    }

    /// How the approval or rejection was made.
    enum DecisionMethod: String, Codable, CaseIterable, Sendable {
        case manual
        case autoRule = "auto_rule"
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

    @Parent(key: "claimant_id")
    var claimant: User

    @OptionalParent(key: "decided_by_id")
    var decidedBy: User?

    @Children(for: \.$claim)
    var items: [ExpenseItem]

    // data

    /// Short purpose, e.g. "Kjøring mars"; no health information.
    @Field(key: "title")
    var title: String

    @Field(key: "status")
    var status: Status

    /// Sum of the items' amounts.
    @Field(key: "total_ore")
    var totalOre: Int

    @OptionalField(key: "submitted_at")
    var submittedAt: Date?

    @OptionalField(key: "decided_at")
    var decidedAt: Date?

    @OptionalField(key: "decision_method")
    var decisionMethod: DecisionMethod?

    @OptionalField(key: "rejection_reason")
    var rejectionReason: String?

    @OptionalField(key: "paid_at")
    var paidAt: Date?

    @OptionalField(key: "payout_reference")
    var payoutReference: String?

    @OptionalField(key: "cancelled_at")
    var cancelledAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        claimantID: UUID,
        title: String,
        status: Status = .draft,
        totalOre: Int = 0,
        submittedAt: Date? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.$claimant.id = claimantID
        self.title = title
        self.status = status
        self.totalOre = totalOre
        self.submittedAt = submittedAt
    }
}
