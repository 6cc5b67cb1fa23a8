import FluentKit
import Foundation

/// Contacts spread over the chapters' municipalities, and their assigned mentors.
extension DemoDataGenerator {
    func writeContacts() async throws {
        var rng = stream(.contacts)
        contactsByMentor = Array(repeating: [], count: mentors.count)
        let total = plan.contactsPerChapter * chapters.count
        var contactCount = 0
        var assignmentCount = 0

        for (chapterIndex, chapter) in chapters.enumerated() {
            let workers = mentorsByChapter[chapterIndex].filter { mentors[$0].canWork }
            let coordinator = coordinatorIDs[chapterIndex][0]
            var contactModels: [Contact] = []
            var assignments: [ContactMentorAssignment] = []

            for _ in 0..<plan.contactsPerChapter {
                let municipality = pickMunicipality(&rng, chapter: chapter)
                let roll = rng.int(0..<100)
                let status: Contact.Status = roll < 80 ? .active : roll < 92 ? .inactive : .archived
                let consentDay = rng.int(-1_500...600)
                let id = rng.uuid()
                let contact = Contact(
                    id: id, organizationID: chapter.id,
                    firstName: rng.pick(NorwegianNames.givenNames), lastName: rng.pick(NorwegianNames.surnames),
                    birthYear: rng.int(1935...2010),
                    phone: rng.chance(0.85) ? rng.mobileNumber() : nil,
                    address: rng.pick(NorwegianNames.streets) + " " + String(rng.int(1...120))
                        + (rng.chance(0.15) ? rng.pick(["A", "B", "C"]) : ""),
                    postalPlace: municipality.name,
                    municipalityCode: municipality.code, countyCode: municipality.countyCode,
                    status: status,
                    consentGivenAt: DemoCalendar.date(day: consentDay, minute: rng.int(480...1_080)),
                    consentScope: rng.pick([
                        "registration", "registration,contact_by_phone", "registration,contact_by_phone,share_with_mentor",
                    ]),
                    createdByID: coordinator)
                contactModels.append(contact)
                let contactIndex = Int32(contacts.count)
                contacts.append(DemoContact(id: id, chapter: chapterIndex, municipalityCode: municipality.code))

                guard !workers.isEmpty else { continue }
                // The first mentor; handed over to another when that mentor stopped or, now and then, anyway.
                let first = rng.pick(workers)
                let assignedDay = max(consentDay, mentors[first].firstDay) + rng.int(0...30)
                guard assignedDay < DemoCalendar.referenceDay - 1 else { continue }
                let firstAssignment = ContactMentorAssignment(
                    id: rng.uuid(), organizationID: chapter.id, contactID: id, mentorID: mentors[first].id,
                    assignedByID: coordinator, assignedAt: DemoCalendar.date(day: assignedDay, minute: rng.int(480...960)))
                assignments.append(firstAssignment)
                contactsByMentor[first].append(contactIndex)

                var handOverDay: Int?
                if mentors[first].lastDay < DemoCalendar.referenceDay {
                    handOverDay = mentors[first].lastDay
                } else if rng.chance(0.08) || status == .archived {
                    handOverDay = rng.int(assignedDay...(DemoCalendar.referenceDay - 1))
                }
                guard let handOverDay, handOverDay > assignedDay else { continue }
                firstAssignment.unassignedAt = DemoCalendar.date(day: handOverDay, minute: 1_020)
                let others = workers.filter { $0 != first && mentors[$0].lastDay > handOverDay }
                guard status != .archived, !others.isEmpty else { continue }
                let second = rng.pick(others)
                assignments.append(
                    ContactMentorAssignment(
                        id: rng.uuid(), organizationID: chapter.id, contactID: id, mentorID: mentors[second].id,
                        assignedByID: coordinator,
                        assignedAt: DemoCalendar.date(day: max(handOverDay, mentors[second].firstDay), minute: 1_080)))
                contactsByMentor[second].append(contactIndex)
            }

            let (finalContacts, finalAssignments) = (contactModels, assignments)
            let writer = self.writer
            try await writer.transaction { tx in
                try await writer.insert(finalContacts, on: tx)
                try await writer.insert(finalAssignments, on: tx)
            }
            contactCount += contactModels.count
            assignmentCount += assignments.count
            writer.report(Contact.schema, done: contactCount, total: total)
        }
        record(Contact.schema, contactCount)
        record(ContactMentorAssignment.schema, assignmentCount)
    }

    /// A municipality the chapter serves: its own town now and then, otherwise any municipality of a county in its
    /// catchment (the county first, so that small counties are not drowned by large ones).
    func pickMunicipality(_ rng: inout SeededRandom, chapter: DemoOrg) -> Municipality {
        if let town = chapter.town, rng.chance(0.3) { return town }
        let county = rng.pick(chapter.catchment)
        guard let municipalities = Self.municipalitiesByCounty[county], !municipalities.isEmpty else {
            return chapter.town ?? Municipalities.all[0]
        }
        return rng.pick(municipalities)
    }
}
