import Fluent
import Foundation
import Vapor

/// The checks on a contact's fields that the contract cannot express, and who can be assigned as a mentor.
///
/// Plain functions over values, so that they are testable without HTTP; each failure is a field error naming the
/// JSON pointer of the bad input.
enum ContactRules {
    /// How far in the future a consent may be dated (clock skew between a client and the server).
    static let consentClockSkew: TimeInterval = 300

    /// A name after trimming; blank is `required`.
    static func name(_ value: String, field: String, errors: inout [AppError.FieldError]) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            errors.append(.init(field: field, code: "required", message: "Must not be blank."))
            return nil
        }
        return trimmed
    }

    /// An optional free-text field after trimming; blank counts as absent.
    static func text(_ value: String?) -> String? {
        guard let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else {
            return nil
        }
        return trimmed
    }

    /// The municipality for a code of the official 2024 list.
    static func municipality(
        _ code: String, field: String = "/municipality_code", errors: inout [AppError.FieldError]
    ) -> Municipality? {
        guard let municipality = Municipalities.byCode[code] else {
            errors.append(
                .init(
                    field: field, code: "unknown_municipality",
                    message: "\(code) is not a municipality number of the 2024 list."))
            return nil
        }
        return municipality
    }

    /// A birth year no later than this year (the contract bounds it to 1900–2100).
    static func birthYear(
        _ year: Int, now: Date = Date(), field: String = "/birth_year", errors: inout [AppError.FieldError]
    ) -> Int? {
        let current = Calendar(identifier: .gregorian).component(.year, from: now)
        guard year <= current else {
            errors.append(.init(field: field, code: "out_of_range", message: "A birth year cannot be after \(current)."))
            return nil
        }
        return year
    }

    /// A consent's scope and time: the scope trimmed and not blank, the time not in the future.
    static func consent(
        scope: String, givenAt: Date?, now: Date = Date(), pointer: String = "", errors: inout [AppError.FieldError]
    ) -> (scope: String, givenAt: Date)? {
        let trimmed = scope.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            errors.append(.init(field: pointer + "/scope", code: "required", message: "Must not be blank."))
            return nil
        }
        let given = givenAt ?? now
        guard given <= now.addingTimeInterval(consentClockSkew) else {
            errors.append(
                .init(field: pointer + "/given_at", code: "out_of_range", message: "Consent cannot be given in the future."))
            return nil
        }
        return (trimmed, given)
    }

    /// Checks that a user can be assigned to a contact of an organisation with this lineage: an active user holding
    /// a live `peer_mentor` role on the organisation or above it, through an active membership there.
    static func checkMentor(
        _ mentorID: UUID, lineage: [Organization], field: String, on db: any Database
    ) async throws {
        let organizationIDs = lineage.compactMap(\.id)
        let roleOrganizations = try await UserRole.query(on: db)
            .filter(\.$user.$id == mentorID)
            .filter(\.$role == .peerMentor)
            .filter(\.$revokedAt == nil)
            .filter(\.$organization.$id ~~ organizationIDs)
            .all()
            .compactMap { $0.$organization.id }
        let user = try await User.find(mentorID, on: db)
        guard let user, user.status == .active, !roleOrganizations.isEmpty else {
            throw AppError.validation([
                .init(
                    field: field, code: "not_a_mentor",
                    message: "This user holds no peer_mentor role in the contact's organisation or above it.")
            ])
        }
        let activeMemberships = try await OrganizationMembership.query(on: db)
            .filter(\.$user.$id == mentorID)
            .filter(\.$organization.$id ~~ roleOrganizations)
            .filter(\.$status == .active)
            .count()
        guard activeMemberships > 0 else {
            throw AppError(.conflict, "The mentor's membership is paused or has ended; they cannot take on contacts now.")
        }
    }

    /// Throws the collected field errors, if any.
    static func throwing(_ errors: [AppError.FieldError]) throws {
        guard errors.isEmpty else { throw AppError.validation(errors) }
    }
}
