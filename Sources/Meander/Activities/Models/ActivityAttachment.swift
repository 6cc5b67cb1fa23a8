import FluentKit
import Foundation

/// Metadata of an evidence file attached to an activity; the bytes live in object storage under `storage_key`.
final class ActivityAttachment: Model, @unchecked Sendable {
    static let schema = "activity_attachments"

    /// What the file shows.
    enum Kind: String, Codable, CaseIterable, Sendable {
        case invitation
        case screenshot
        case attendanceList = "attendance_list"
        case photo
        case other
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "deleted_at", on: .delete)
    var deletedAt: Date?

    // references

    @Parent(key: "organization_id")
    var organization: Organization

    @Parent(key: "activity_id")
    var activity: Activity

    @Parent(key: "uploaded_by_id")
    var uploadedBy: User

    // data

    @Field(key: "file_name")
    var fileName: String

    /// Media type detected from the bytes, not taken from the client.
    @Field(key: "media_type")
    var mediaType: String

    @Field(key: "size_bytes")
    var sizeBytes: Int

    /// Hex SHA-256 of the bytes.
    @Field(key: "sha256")
    var sha256: String

    @Field(key: "storage_key")
    var storageKey: String

    @Field(key: "kind")
    var kind: Kind

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        activityID: UUID,
        uploadedByID: UUID,
        fileName: String,
        mediaType: String,
        sizeBytes: Int,
        sha256: String,
        storageKey: String,
        kind: Kind
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.$activity.id = activityID
        self.$uploadedBy.id = uploadedByID
        self.fileName = fileName
        self.mediaType = mediaType
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.storageKey = storageKey
        self.kind = kind
    }
}
