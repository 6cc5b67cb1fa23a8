import FluentKit
import Foundation

/// Confidentiality declarations, and monthly expense claims with their items, in øre.
extension DemoDataGenerator {
    /// Item kinds and their relative frequency.
    static let expenseKindWeights: [(kind: ExpenseItem.Kind, weight: Double)] = [
        (.mileage, 55), (.parking, 12), (.toll, 10), (.publicTransport, 12), (.meal, 6), (.accommodation, 2),
        (.driverHonorarium, 1), (.other, 2),
    ]

    func writeExpenses() async throws {
        var rng = stream(.expenses)
        let rates = try await MileageRate.query(on: writer.db).filter(\.$organization.$id == nil).all()
            .map { (kind: $0.kind, orePerKm: $0.orePerKm, validFrom: $0.validFrom, validTo: $0.validTo) }
        func rate(_ kind: MileageRate.Kind, on date: String) throws -> Int {
            let valid = rates.filter { $0.kind == kind && $0.validFrom <= date && ($0.validTo.map { date <= $0 } ?? true) }
            guard let rate = valid.max(by: { $0.validFrom < $1.validFrom }) else {
                throw AppError(.internalError, "No global \(kind.rawValue) mileage rate for \(date); run the migrations.")
            }
            return rate.orePerKm
        }
        let kindCumulative = cumulativeWeights(Self.expenseKindWeights.map(\.weight))
        let writer = self.writer

        // Declarations: every mentor signs one when joining; drivers sign the driver's one too.
        var declarations: [ConfidentialityDeclaration] = []
        for mentor in mentors where mentor.weight > 0 {
            for capacity in mentor.isDriver ? [ConfidentialityDeclaration.Capacity.peerMentor, .driver] : [.peerMentor] {
                let signedDay = min(mentor.joinDay + rng.int(0...14), DemoCalendar.referenceDay - 1)
                let roll = rng.int(0..<100)
                let declaration = ConfidentialityDeclaration(
                    id: rng.uuid(), organizationID: chapters[mentor.chapter].id, userID: mentor.id, capacity: capacity,
                    textVersion: signedDay < 0 ? "2023-01" : "2025-01",
                    signedAt: DemoCalendar.date(day: signedDay, minute: rng.int(480...1_260)),
                    method: roll < 70 ? .inApp : roll < 90 ? .bankID : .paper)
                if rng.chance(0.5) {
                    declaration.validUntil = DemoCalendar.date(day: DemoCalendar.addingMonths(36, to: signedDay))
                }
                declarations.append(declaration)
            }
        }
        try await writer.insert(declarations)
        record(ConfidentialityDeclaration.schema, declarations.count)

        // Claims: per mentor and month, now and then; written in blocks of mentors to keep memory flat.
        var claimCount = 0
        var itemCount = 0
        var payoutSequence = 0
        let months = (0..<24).map { (DemoCalendar.previousYear + $0 / 12, $0 % 12 + 1) }
        let blockSize = 250
        for blockStart in stride(from: 0, to: mentors.count, by: blockSize) {
            var claims: [ExpenseClaim] = []
            var items: [ExpenseItem] = []
            for mentor in mentors[blockStart..<min(blockStart + blockSize, mentors.count)] where mentor.canWork {
                let chapter = chapters[mentor.chapter]
                let coordinator = coordinatorIDs[mentor.chapter][0]
                for (year, month) in months {
                    let monthStart = DemoCalendar.day(year: year, month: month, day: 1)
                    let monthEnd = monthStart + DemoCalendar.daysInMonth(year: year, month: month)
                    let first = max(monthStart, mentor.firstDay)
                    let last = min(monthEnd, mentor.lastDay, DemoCalendar.referenceDay)
                    guard first < last, rng.chance(plan.claimChancePerMonth) else { continue }

                    let claimID = rng.uuid()
                    var total = 0
                    var allMileage = true
                    for _ in 0..<rng.pick([1, 1, 2, 2, 2, 3, 4]) {
                        var kind = Self.expenseKindWeights[rng.weightedIndex(kindCumulative)].kind
                        if kind == .driverHonorarium && !mentor.isDriver { kind = .mileage }
                        let day = rng.int(first...(last - 1))
                        let date = DemoCalendar.isoDate(day: day)
                        let item = ExpenseItem(
                            id: rng.uuid(), organizationID: chapter.id, claimID: claimID, kind: kind, incurredOn: date,
                            amountOre: 0)
                        switch kind {
                        case .mileage:
                            // Whole kilometres × the organisation's rate, plus the supplement per passenger.
                            let kilometres = rng.chance(0.05) ? rng.int(120...320) : rng.int(3...90)
                            let passengers = rng.pick([0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
                            let perKm = try rate(chapter.mileageRateKind == .taxFree ? .taxFree : .state, on: date)
                            let passengerPerKm = try rate(.passenger, on: date)
                            item.distanceMeters = kilometres * 1_000
                            item.passengerCount = passengers
                            item.rateOrePerKm = perKm
                            item.passengerRateOrePerKm = passengerPerKm
                            item.amountOre = kilometres * perKm + passengers * kilometres * passengerPerKm
                            item.fromPlace = "Hjemme"
                            item.toPlace = pickMunicipality(&rng, chapter: chapter).name
                            item.note = rng.pick(["Hjemmebesøk", "Følge til avtale", "Gruppemøte", "Kurs", "Infostand"])
                        case .toll:
                            item.amountOre = rng.int(20...120) * 100
                            item.note = "Bompenger"
                        case .parking:
                            item.amountOre = rng.int(2...15) * 1_000
                            item.note = rng.pick(["Parkering ved sykehuset", "Parkering sentrum", "Parkering"])
                        case .publicTransport:
                            item.amountOre = rng.pick([4_400, 6_000, 8_800, 12_000, 23_400, 44_000])
                            item.note = rng.pick(["Buss", "Tog", "Ferje", "Trikk"])
                        case .meal:
                            item.amountOre = rng.int(80...350) * 100
                            item.note = "Servering på gruppemøte"
                        case .accommodation:
                            item.amountOre = rng.int(900...1_800) * 100
                            item.note = "Hotell under samling"
                        case .driverHonorarium:
                            item.amountOre = rng.pick([30_000, 50_000])
                            item.note = "Sjåførhonorar"
                        case .other:
                            item.amountOre = rng.int(50...500) * 100
                            item.note = "Materiell til gruppemøte"
                        }
                        allMileage = allMileage && kind == .mileage
                        total += item.amountOre
                        items.append(item)
                    }

                    let title =
                        (allMileage ? "Kjøregodtgjørelse " : "Utlegg ") + DemoCalendar.monthNames[month - 1]
                        + " " + String(year)
                    let claim = ExpenseClaim(
                        id: claimID, organizationID: chapter.id, claimantID: mentor.id, title: title, totalOre: total)
                    claims.append(claim)
                    let submitDay = last + rng.int(0...7)
                    guard submitDay < DemoCalendar.referenceDay, rng.chance(0.97) else { continue }  // still a draft
                    claim.status = .submitted
                    claim.submittedAt = DemoCalendar.date(day: submitDay, minute: rng.int(480...1_320))
                    let decideDay = submitDay + rng.int(1...12)
                    guard decideDay < DemoCalendar.referenceDay else { continue }
                    let decidedAt = DemoCalendar.date(day: decideDay, minute: rng.int(480...960))
                    let roll = rng.int(0..<100)
                    if roll < 4 {
                        claim.status = .cancelled
                        claim.cancelledAt = decidedAt
                        continue
                    }
                    if roll < 7 { continue }  // still waiting for a decision
                    if let limit = chapter.autoApprovalLimitOre, total <= limit, roll >= 13, rng.chance(0.6) {
                        claim.decisionMethod = .autoRule
                        claim.decidedAt = claim.submittedAt
                    } else {
                        claim.decisionMethod = .manual
                        claim.$decidedBy.id = coordinator
                        claim.decidedAt = decidedAt
                    }
                    if roll < 13 && claim.decisionMethod == .manual {
                        claim.status = .rejected
                        claim.rejectionReason = rng.pick([
                            "Mangler kvittering", "Kjøringen gjelder ikke likepersonarbeid", "Dobbelt innsendt",
                        ])
                        continue
                    }
                    claim.status = .approved
                    let paidDay = decideDay + rng.int(3...14)
                    guard paidDay < DemoCalendar.referenceDay else { continue }
                    payoutSequence += 1
                    claim.status = .paid
                    claim.paidAt = DemoCalendar.date(day: paidDay, minute: 600)
                    claim.payoutReference = "UTB-" + String(year) + "-" + String(format: "%06d", payoutSequence)
                }
            }

            let (finalClaims, finalItems) = (claims, items)
            try await writer.transaction { tx in
                try await writer.insert(finalClaims, on: tx)
                try await writer.insert(finalItems, on: tx)
            }
            claimCount += claims.count
            itemCount += items.count
            writer.report("expense_claims (by mentor)", done: min(blockStart + blockSize, mentors.count), total: mentors.count)
        }
        record(ExpenseClaim.schema, claimCount)
        record(ExpenseItem.schema, itemCount)
    }
}
