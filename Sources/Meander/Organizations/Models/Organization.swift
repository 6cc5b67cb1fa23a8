import FluentKit
import Foundation

/// A tenant: a national association, a regional body or a local chapter, arranged in a tree by `parent`.
///
/// Settings are explicit columns rather than one JSON blob, so that rules can query them and the database can check
/// them: `mileage_rate_kind` picks which rate (state or tax-free) the organisation pays, looked up in `mileage_rates`
/// (an organisation-specific row overrides the global one); `expense_auto_approval_limit_ore` (NULL: never
/// auto-approve); `enabled_products` and `evidence_activity_type_keys` are small JSON arrays of keys.
/// The legal entity for the yearly reimbursement threshold is the nearest organisation up the tree with an
/// `org_number`.
final class Organization: Model, @unchecked Sendable {
    static let schema = "organizations"

    /// Place in the tree.
    enum Kind: String, Codable, CaseIterable, Sendable {
        case national
        case regional
        case local
    }

    /// A suspended tenant can log in to nothing but read-only export.
    enum Status: String, Codable, CaseIterable, Sendable {
        case active
        case suspended
    }

    /// Which rate the organisation pays for mileage; the passenger supplement comes on top of either.
    enum MileageRateKind: String, Codable, CaseIterable, Sendable {
        case state
        case taxFree = "tax_free"
    }

    /// Client products a tenant can switch on.
    enum Product: String, Codable, CaseIterable, Sendable {
        case mobile
        case adminPortal = "admin_portal"
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // references

    @OptionalParent(key: "parent_id")
    var parent: Organization?

    @Children(for: \.$parent)
    var children: [Organization]

    // data

    @Field(key: "name")
    var name: String

    @Field(key: "kind")
    var kind: Kind

    /// Norwegian organisation number, 9 digits with a mod-11 check digit (checked by the application).
    @OptionalField(key: "org_number")
    var orgNumber: String?

    @Field(key: "status")
    var status: Status

    @Field(key: "mileage_rate_kind")
    var mileageRateKind: MileageRateKind

    @OptionalField(key: "expense_auto_approval_limit_ore")
    var expenseAutoApprovalLimitOre: Int?

    /// JSON array of `Product` raw values; use `enabledProducts`.
    @Field(key: "enabled_products")
    var enabledProductsJSON: String

    /// JSON array of activity type keys that need evidence here in addition to the types' own flag.
    @Field(key: "evidence_activity_type_keys")
    var evidenceActivityTypeKeysJSON: String

    init() {}

    init(
        id: UUID? = nil,
        name: String,
        kind: Kind,
        parentID: UUID? = nil,
        orgNumber: String? = nil,
        status: Status = .active,
        mileageRateKind: MileageRateKind = .state,
        expenseAutoApprovalLimitOre: Int? = nil,
        enabledProducts: [Product] = Product.allCases,
        evidenceActivityTypeKeys: [String] = []
    ) {
        self.id = id
        self.$parent.id = parentID
        self.name = name
        self.kind = kind
        self.orgNumber = orgNumber
        self.status = status
        self.mileageRateKind = mileageRateKind
        self.expenseAutoApprovalLimitOre = expenseAutoApprovalLimitOre
        self.enabledProductsJSON = JSONText.encode(enabledProducts)
        self.evidenceActivityTypeKeysJSON = JSONText.encode(evidenceActivityTypeKeys)
    }

    var enabledProducts: [Product] {
        get { JSONText.decode([Product].self, from: enabledProductsJSON) ?? [] }
        set { enabledProductsJSON = JSONText.encode(newValue) }
    }

    var evidenceActivityTypeKeys: [String] {
        get { JSONText.decode([String].self, from: evidenceActivityTypeKeysJSON) ?? [] }
        set { evidenceActivityTypeKeysJSON = JSONText.encode(newValue) }
    }
}
