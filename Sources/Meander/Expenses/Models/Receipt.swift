import FluentKit
import Foundation

/// An image or PDF of a receipt for one expense item; the bytes live in object storage under `storage_key`.
///
/// The same bytes (`sha256`) twice in one organisation are flagged by pointing `duplicate_of` at the earlier one.
final class Receipt: Model, @unchecked Sendable {
    static let schema = "receipts"

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    // references

    @Parent(key: "organization_id")
    var organization: Organization

    @Parent(key: "expense_item_id")
    var item: ExpenseItem

    @Parent(key: "uploaded_by_id")
    var uploadedBy: User

    @OptionalParent(key: "duplicate_of_id")
    var duplicateOf: Receipt?

    // data

    @Field(key: "storage_key")
    var storageKey: String

    @Field(key: "media_type")
    var mediaType: String

    @Field(key: "size_bytes")
    var sizeBytes: Int

    /// Hex SHA-256 of the bytes.
    @Field(key: "sha256")
    var sha256: String

    /// When the photo was taken on the device, possibly long before upload.
    @OptionalField(key: "captured_at")
    var capturedAt: Date?

    @Field(key: "was_compressed")
    var wasCompressed: Bool

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        expenseItemID: UUID,
        uploadedByID: UUID,
        storageKey: String,
        mediaType: String,
        sizeBytes: Int,
        sha256: String,
        capturedAt: Date? = nil,
        wasCompressed: Bool = false,
        duplicateOfID: UUID? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.$item.id = expenseItemID
        self.$uploadedBy.id = uploadedByID
        self.storageKey = storageKey
        self.mediaType = mediaType
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.capturedAt = capturedAt
        self.wasCompressed = wasCompressed
        self.$duplicateOf.id = duplicateOfID
    }
}
