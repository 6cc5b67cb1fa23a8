import FluentKit
import Foundation

/// National and regional courses, enrolments, and the certificates completed enrolments produced.
extension DemoDataGenerator {
    struct CourseTemplate: Sendable {
        let title: String
        let details: String
        let sessions: Int
        let issuesCertificate: Bool
        let validityMonths: Int?
    }

    static let courseTemplates = [
        CourseTemplate(
            title: "Grunnkurs for likepersoner", details: "Rollen som likeperson, samtalen, grenser og taushetsplikt.",
            sessions: 4, issuesCertificate: true, validityMonths: 36),
        CourseTemplate(
            title: "Samtaleteknikk og aktiv lytting", details: "Øvelser i gode samtaler med mennesker i en vanskelig tid.",
            sessions: 2, issuesCertificate: true, validityMonths: 24),
        CourseTemplate(
            title: "Taushetsplikt og personvern", details: "Hva du kan dele, med hvem, og hvordan du oppbevarer opplysninger.",
            sessions: 1, issuesCertificate: true, validityMonths: 12),
        CourseTemplate(
            title: "Førstehjelp", details: "Grunnleggende førstehjelp, også for personer med funksjonsnedsettelser.",
            sessions: 1, issuesCertificate: true, validityMonths: 24),
        CourseTemplate(
            title: "Universell utforming i praksis", details: "Hvordan vurdere tilgjengelighet i nærmiljøet.",
            sessions: 2, issuesCertificate: true, validityMonths: nil),
        CourseTemplate(
            title: "Likepersonsamling: erfaringsdeling", details: "Påfyll og erfaringsdeling for aktive likepersoner.",
            sessions: 1, issuesCertificate: false, validityMonths: nil),
    ]

    func writeCourses() async throws {
        var rng = stream(.courses)
        var courses: [Course] = []
        var enrollments: [CourseEnrollment] = []
        var certificates: [Certificate] = []
        var certificateSequence = 0

        func members(inRegion regionIndex: Int?) -> [UUID] {
            chapters.indices.filter { regionIndex == nil || chapters[$0].regionIndex == regionIndex }.flatMap { index in
                mentorsByChapter[index].filter { mentors[$0].canWork }.map { mentors[$0].id } + coordinatorIDs[index]
            }
        }

        func makeCourse(
            org: DemoOrg, owner: UUID, members: [UUID], year: Int, online: Bool, place: String,
            rng: inout SeededRandom
        ) {
            let template = rng.pick(Self.courseTemplates)
            let yearStart = DemoCalendar.day(year: year, month: 1, day: 1)
            var startDay = rng.int((yearStart + 14)...(yearStart + 330))
            while DemoCalendar.weekday(day: startDay) >= 5 { startDay += 1 }
            let startMinute = template.sessions > 1 ? 16 * 60 : 8 * 60  // evenings, or a whole day
            let lengthMinutes = template.sessions > 1 ? 120 : 360
            let endDay = startDay + (template.sessions - 1) * 7
            let startsAt = DemoCalendar.date(day: startDay, minute: startMinute)
            let endsAt = DemoCalendar.date(day: endDay, minute: startMinute + lengthMinutes)
            let capacity: Int? = rng.chance(0.8) ? rng.int(12...30) : nil
            let finished = endDay < DemoCalendar.referenceDay
            let started = startDay < DemoCalendar.referenceDay
            let status: Course.Status =
                finished ? (rng.chance(0.9) ? .completed : .cancelled) : started || rng.chance(0.8) ? .published : .draft
            // Oslo local time is UTC + 1 in winter, UTC + 2 in summer; the schedule shows winter time.
            let weekday = ["Mandager", "Tirsdager", "Onsdager", "Torsdager", "Fredager"][DemoCalendar.weekday(day: startDay)]
            let localHour = startMinute / 60 + 1
            let schedule =
                template.sessions > 1 ? "\(weekday) \(localHour)–\(localHour + 2), \(template.sessions) ganger" : "Heldag"
            let courseID = rng.uuid()
            courses.append(
                Course(
                    id: courseID, organizationID: org.id, title: template.title, startsAt: startsAt, endsAt: endsAt,
                    createdByID: owner, details: template.details, schedule: schedule, place: online ? nil : place,
                    isOnline: online, capacity: capacity,
                    enrollmentDeadline: DemoCalendar.date(day: startDay - 7, minute: 1_320), status: status,
                    issuesCertificate: template.issuesCertificate, certificateValidityMonths: template.validityMonths))

            guard status != .draft, !members.isEmpty else { return }
            var seats = capacity ?? Int.max
            var waitlist = 0
            for user in rng.sample(members, count: rng.int(6...((capacity ?? 24) + 4))) {
                let enrollment = CourseEnrollment(
                    id: rng.uuid(), organizationID: org.id, courseID: courseID, userID: user,
                    enrolledByID: rng.chance(0.15) ? owner : user)
                enrollments.append(enrollment)
                if status == .cancelled || rng.chance(0.08) {
                    enrollment.status = .cancelled
                    enrollment.cancelledAt = DemoCalendar.date(day: startDay - rng.int(1...10), minute: 600)
                    continue
                }
                guard seats > 0 else {
                    if finished {
                        enrollment.status = .cancelled  // never got a seat
                        enrollment.cancelledAt = startsAt
                    } else {
                        waitlist += 1
                        enrollment.status = .waitlisted
                        enrollment.waitlistPosition = waitlist
                    }
                    continue
                }
                seats -= 1
                guard finished else { continue }  // enrolled
                guard rng.chance(0.94) else {
                    enrollment.status = .failed
                    continue
                }
                enrollment.status = .completed
                enrollment.completedAt = endsAt
                guard template.issuesCertificate else { continue }
                certificateSequence += 1
                var code = rng.code(length: 10)
                while !shared.certificateCodes.insert(code).inserted { code = rng.code(length: 10) }
                let issuedDay = endDay + 1
                let issuedAt = DemoCalendar.date(day: issuedDay, minute: 540)
                let certificate = Certificate(
                    id: rng.uuid(), organizationID: org.id, userID: user, courseID: courseID,
                    enrollmentID: enrollment.id!,
                    number: "\(tenant.certificatePrefix)-\(year)-" + String(format: "%05d", certificateSequence),
                    verificationCode: code, issuedAt: issuedAt,
                    validUntil: template.validityMonths.map {
                        DemoCalendar.date(day: DemoCalendar.addingMonths($0, to: issuedDay), minute: 540)
                    })
                if rng.chance(0.01) {
                    certificate.revokedAt = DemoCalendar.date(day: min(issuedDay + 20, DemoCalendar.referenceDay - 1))
                    certificate.revokedReason = "Utstedt ved en feil"
                    certificate.$revokedBy.id = nationalAdminID
                } else if firstCompletedCourse[user].map({ issuedAt < $0 }) ?? true {
                    firstCompletedCourse[user] = issuedAt
                }
                certificates.append(certificate)
            }
        }

        guard let national else { preconditionFailure("organisations are written first") }
        let everyone = members(inRegion: nil)
        for year in [DemoCalendar.previousYear, DemoCalendar.currentYear] {
            for _ in 0..<plan.nationalCoursesPerYear {
                let online = rng.chance(0.5)
                makeCourse(
                    org: national, owner: nationalAdminID, members: everyone, year: year, online: online,
                    place: tenant.courseVenue, rng: &rng)
            }
            for (regionIndex, region) in regions.enumerated() {
                let regionMembers = members(inRegion: regionIndex)
                let town = chapters.first(where: { $0.regionIndex == regionIndex })?.town?.name ?? "Oslo"
                for _ in 0..<plan.regionalCoursesPerYear {
                    makeCourse(
                        org: region, owner: regionAdminIDs[regionIndex], members: regionMembers, year: year,
                        online: rng.chance(0.2), place: "Kulturhuset i " + town, rng: &rng)
                }
            }
        }

        let (finalCourses, finalEnrollments, finalCertificates) = (courses, enrollments, certificates)
        let writer = self.writer
        try await writer.transaction { tx in
            try await writer.insert(finalCourses, on: tx)
            try await writer.insert(finalEnrollments, on: tx)
            try await writer.insert(finalCertificates, on: tx)
        }
        writer.report(Course.schema, done: courses.count, total: courses.count)
        record(Course.schema, courses.count)
        record(CourseEnrollment.schema, enrollments.count)
        record(Certificate.schema, certificates.count)
    }
}
