import Fluent
import Foundation
import Testing
import Vapor

@testable import Meander

/// Matrix factories for the tenant-data operations (contacts, activity types, activities, attachments).
///
/// A peer mentor reaches only their own activities and their assigned contacts, so the records are made theirs when
/// the caller is a peer mentor: the cell then tests the organisational scope the table describes, and the narrower
/// mentor rules are covered by the capabilities' own suites.
extension MatrixCase {
    static func tenantDataRequest(
        for operationID: String, app: Application, target: Organization, caller: SignedIn, role: UserRole.Role
    ) async throws -> MatrixRequest? {
        let organizationID = try target.requireID()
        let callerID = try caller.user.requireID()
        let owner = role == .peerMentor ? callerID : try await mentor(app, in: target)

        func contact(consent: Bool = false) async throws -> Contact {
            let contact = Contact(
                organizationID: organizationID, firstName: "Matrix", lastName: "Kontakt", municipalityCode: "5501",
                countyCode: "55", consentGivenAt: consent ? Date() : nil, consentScope: consent ? "registration" : nil)
            try await contact.create(on: app.db)
            try await ContactMentorAssignment(
                organizationID: organizationID, contactID: try contact.requireID(), mentorID: owner
            ).create(on: app.db)
            return contact
        }
        func activity(_ status: Activity.Status = .registered) async throws -> Activity {
            let type = try #require(
                try await ActivityType.query(on: app.db).filter(\.$key == "group_meeting").filter(\.$organization.$id == nil)
                    .first())
            let activity = Activity(
                organizationID: organizationID, mentorID: owner, activityTypeID: try type.requireID(),
                occurredAt: Date(timeIntervalSince1970: 1_741_946_400), durationMinutes: 90, participantCount: 4,
                status: status)
            try await activity.create(on: app.db)
            return activity
        }
        func attachment() async throws -> ActivityAttachment {
            let activity = try await activity()
            let id = UUID()
            let bytes = Data("%PDF-1.4\n%%EOF\n".utf8)
            let attachment = ActivityAttachment(
                id: id, organizationID: organizationID, activityID: try activity.requireID(), uploadedByID: owner,
                fileName: "bevis.pdf", mediaType: "application/pdf", sizeBytes: bytes.count,
                sha256: Digest.sha256Hex(bytes), storageKey: BlobKey.attachment(organizationID: organizationID, attachmentID: id),
                kind: .attendanceList)
            try await app.meander.files.put(attachment.storageKey, bytes, contentType: "application/pdf")
            try await attachment.create(on: app.db)
            return attachment
        }

        switch operationID {
        case "listContacts", "listActivities":
            return MatrixRequest(query: "organization_id=\(organizationID.api)")
        case "createContact":
            return MatrixRequest(
                body: #"{"organization_id": "\#(organizationID.api)", "first_name": "Ny", "last_name": "Kontakt"}"#)
        case "getContact", "archiveContact", "withdrawConsent", "exportContact", "eraseContact":
            let contact = try await contact(consent: operationID == "withdrawConsent")
            return MatrixRequest(pathParameters: ["contactId": try contact.requireID().api])
        case "updateContact":
            let contact = try await contact()
            return MatrixRequest(pathParameters: ["contactId": try contact.requireID().api], body: #"{"phone": "+4791234567"}"#)
        case "recordConsent":
            let contact = try await contact()
            return MatrixRequest(
                pathParameters: ["contactId": try contact.requireID().api], body: #"{"scope": "registration"}"#)
        case "assignMentor":
            let contact = try await contact()
            let other = try await mentor(app, in: target)
            return MatrixRequest(
                pathParameters: ["contactId": try contact.requireID().api], body: #"{"mentor_id": "\#(other.api)"}"#)
        case "unassignMentor":
            let contact = try await contact()
            return MatrixRequest(pathParameters: ["contactId": try contact.requireID().api, "mentorId": owner.api])
        case "listOrganizationActivityTypes":
            return MatrixRequest(pathParameters: ["organizationId": organizationID.api])
        case "createActivityType":
            return MatrixRequest(
                pathParameters: ["organizationId": organizationID.api],
                body:
                    #"{"key": "matrix_\#(UUID().uuidString.prefix(8).lowercased())", "name_nb": "Matrise", "name_en": "Matrix", "bufdir_category": "other", "reportable": false, "requires_evidence": false, "default_duration_minutes": 30}"#
            )
        case "updateActivityType":
            let type = ActivityType(
                organizationID: organizationID, key: "own_\(UUID().uuidString.prefix(8).lowercased())", nameNb: "Eget",
                nameEn: "Own", bufdirCategory: .other)
            try await type.create(on: app.db)
            return MatrixRequest(pathParameters: ["activityTypeId": try type.requireID().api], body: #"{"sort_order": 5}"#)
        case "createActivity":
            let type = try #require(
                try await ActivityType.query(on: app.db).filter(\.$key == "home_visit").filter(\.$organization.$id == nil)
                    .first())
            return MatrixRequest(
                body:
                    #"{"organization_id": "\#(organizationID.api)", "activity_type_id": "\#(try type.requireID().api)", "occurred_at": "2025-03-14T10:00:00Z", "duration_minutes": 60}"#
            )
        case "getActivity", "deleteActivity", "approveActivity", "listAttachments":
            return MatrixRequest(pathParameters: ["activityId": try await activity().requireID().api])
        case "updateActivity":
            return MatrixRequest(
                pathParameters: ["activityId": try await activity().requireID().api], body: #"{"duration_minutes": 95}"#)
        case "rejectActivity":
            return MatrixRequest(
                pathParameters: ["activityId": try await activity().requireID().api], body: #"{"reason": "matrix"}"#)
        case "uploadAttachment":
            return MatrixRequest(
                pathParameters: ["activityId": try await activity().requireID().api], query: "file_name=bevis.pdf",
                raw: ("application/pdf", Data("%PDF-1.4\n%%EOF\n".utf8)))
        case "downloadAttachment", "deleteAttachment":
            return MatrixRequest(pathParameters: ["attachmentId": try await attachment().requireID().api])
        default:
            return try await bufdirRequest(for: operationID, app: app, target: target)
        }
    }

    /// A fresh peer mentor of `organization`.
    static func mentor(_ app: Application, in organization: Organization) async throws -> UUID {
        try await IdentityFixtures.user(
            app, email: "mentor-\(UUID().api)@matrix.test", roles: [(.peerMentor, organization)]
        ).requireID()
    }
}
