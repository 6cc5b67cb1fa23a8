import Foundation

/// The files a report becomes when it leaves the tenant: small cells suppressed, no names of contacts, no free
/// text, and nothing that depends on when they were made, so the same report and data give the same bytes.
enum BufdirReportFiles {
    /// The JSON export, and what `content_sha256` hashes once the report is final.
    struct Document: Encodable {
        var format = "meander.bufdir-report/1"
        var reportId: UUID
        var organizationId: UUID
        var organizationName: String
        var reportingYear: Int
        var periodStart: String
        var periodEnd: String
        /// Finalised or submitted: the figures are frozen.
        var final: Bool
        var suppressed = true
        var figures: BufdirFigures
    }

    static func json(_ report: BufdirReport, final: Bool? = nil) throws -> Data {
        let figures = try BufdirReportLifecycle.figures(of: report)
        let document = Document(
            reportId: try report.requireID(), organizationId: report.$organization.id,
            organizationName: figures.organizations.first?.name ?? "", reportingYear: report.reportingYear,
            periodStart: report.periodStart, periodEnd: report.periodEnd, final: final ?? (report.status != .draft),
            figures: figures.suppressed())
        return try BufdirFigures.encoder.encode(document)
    }

    /// The report as tables: one per breakdown, the sheets of the workbook and the sections of the CSV. Headings and labels are
    /// Norwegian (bokmål); numbers stay numbers, and people figures of 1–4 read `<5`.
    static func sheets(_ report: BufdirReport) throws -> [XLSXWorkbook.Sheet] {
        let figures = try BufdirReportLifecycle.figures(of: report).suppressed()
        let minPeople = figures.minPeople
        func people(_ value: Int?, _ name: String, in cell: BufdirCell) -> CSVTable.Cell {
            if let value { return .integer(value) }
            return cell.suppressed?.contains(name) == true ? .text("<\(minPeople)") : .empty
        }
        func optional(_ value: Int?) -> CSVTable.Cell { value.map { .integer($0) } ?? .empty }

        let totals = figures.totals
        var summary: [[CSVTable.Cell]] = [
            [.text("Organisasjon"), .text(figures.organizations.first?.name ?? "")],
            [.text("Periode"), .text("\(report.periodStart) – \(report.periodEnd)")],
            [.text("Rapporteringsår"), .integer(report.reportingYear)],
            [.text("Endelig"), .text(report.status == .draft ? "nei (utkast)" : "ja")],
            [.text("Prikking under"), .integer(minPeople)],
        ]
        summary += cellRows(totals, people: people, optional: optional)

        let categoryHeader = [
            "Kategori", "Aktiviteter", "Timer", "Dager", "Deltakere", "Krever dokumentasjon", "Mangler dokumentasjon",
        ]
        func categoryRows(_ cell: BufdirCell, prefix: [CSVTable.Cell] = []) -> [[CSVTable.Cell]] {
            cell.categories.map { category in
                let participants: CSVTable.Cell =
                    category.participants.map { .integer($0) }
                    ?? (category.suppressed == nil ? .empty : .text("<\(minPeople)"))
                return prefix + [
                    .text(label(category.category)), .integer(category.activities), .decimal(category.hours),
                    .integer(category.days), participants, .integer(category.evidenceRequired),
                    .integer(category.evidenceMissing),
                ]
            }
        }

        let countyHeader = [
            "Fylkesnummer", "Fylke", "Aktiviteter", "Timer", "Dager", "Kontakter nådd", "Deltakere i grupper",
            "Aktive likepersoner", "Krever dokumentasjon", "Mangler dokumentasjon",
        ]
        let countyRows: [[CSVTable.Cell]] = figures.counties.map { county in
            let cell = county.figures
            return [
                .text(county.code), .text(county.name), .integer(cell.activities), .decimal(cell.hours), .integer(cell.days),
                people(cell.contactsReached, "contacts_reached", in: cell),
                people(cell.participantsGroup, "participants_group", in: cell),
                people(cell.activeMentors, "active_mentors", in: cell), .integer(cell.evidenceRequired),
                .integer(cell.evidenceMissing),
            ]
        }

        let organizationHeader = [
            "Organisasjon-ID", "Navn", "Nivå", "Dybde", "Aktiviteter", "Timer", "Dager", "Kontakter nådd",
            "Deltakere i grupper", "Aktive likepersoner", "Registrerte likepersoner", "Likepersoner kurset", "Medlemmer",
            "Arrangementer", "Kursdager", "Lokallag", "Fylker dekket", "Krever dokumentasjon", "Mangler dokumentasjon",
        ]
        let organizationRows: [[CSVTable.Cell]] = figures.organizations.map { organization in
            let cell = organization.figures
            return [
                .text(organization.organizationId.uuidString.lowercased()), .text(organization.name),
                .text(label(organization.kind)), .integer(organization.depth), .integer(cell.activities),
                .decimal(cell.hours), .integer(cell.days), people(cell.contactsReached, "contacts_reached", in: cell),
                people(cell.participantsGroup, "participants_group", in: cell),
                people(cell.activeMentors, "active_mentors", in: cell),
                people(cell.registeredMentors, "registered_mentors", in: cell),
                people(cell.mentorsTrained, "mentors_trained", in: cell), people(cell.members, "members", in: cell),
                optional(cell.events), optional(cell.courseDays), optional(cell.chapters), optional(cell.countiesCovered),
                .integer(cell.evidenceRequired), .integer(cell.evidenceMissing),
            ]
        }
        let organizationCategoryRows = figures.organizations.flatMap { organization in
            categoryRows(
                organization.figures,
                prefix: [.text(organization.organizationId.uuidString.lowercased()), .text(organization.name)])
        }
        let countyCategoryRows = figures.counties.flatMap { county in
            categoryRows(county.figures, prefix: [.text(county.code), .text(county.name)])
        }

        return [
            XLSXWorkbook.Sheet(name: "Oversikt", header: ["Tall", "Verdi"], rows: summary),
            XLSXWorkbook.Sheet(name: "Kategorier", header: categoryHeader, rows: categoryRows(totals)),
            XLSXWorkbook.Sheet(name: "Fylker", header: countyHeader, rows: countyRows),
            XLSXWorkbook.Sheet(
                name: "Fylker per kategori", header: ["Fylkesnummer", "Fylke"] + categoryHeader, rows: countyCategoryRows),
            XLSXWorkbook.Sheet(name: "Organisasjoner", header: organizationHeader, rows: organizationRows),
            XLSXWorkbook.Sheet(
                name: "Organisasjoner per kategori", header: ["Organisasjon-ID", "Navn"] + categoryHeader,
                rows: organizationCategoryRows),
        ]
    }

    /// A category as the spreadsheets name it; the JSON export keeps the stable key (`one_to_one`, …).
    static func label(_ category: ActivityType.BufdirCategory) -> String {
        switch category {
        case .oneToOne: "Én-til-én"
        case .group: "Gruppe"
        case .course: "Kurs"
        case .information: "Informasjon"
        case .event: "Arrangement"
        case .other: "Annet"
        }
    }

    /// An organisation's place in the tree as Norwegian organisations name it; the JSON export keeps the key (`local`, …).
    static func label(_ kind: Organization.Kind) -> String {
        switch kind {
        case .national: "Sentralledd"
        case .regional: "Regionledd"
        case .local: "Lokallag"
        }
    }

    /// The summary rows of a cell (name, value).
    private static func cellRows(
        _ cell: BufdirCell, people: (Int?, String, BufdirCell) -> CSVTable.Cell, optional: (Int?) -> CSVTable.Cell
    ) -> [[CSVTable.Cell]] {
        [
            [.text("Aktiviteter som teller"), .integer(cell.activities)],
            [.text("Timer"), .decimal(cell.hours)],
            [.text("Aktivitetsdager"), .integer(cell.days)],
            [.text("Kontakter nådd"), people(cell.contactsReached, "contacts_reached", cell)],
            [.text("Deltakere i grupper"), people(cell.participantsGroup, "participants_group", cell)],
            [.text("Aktive likepersoner"), people(cell.activeMentors, "active_mentors", cell)],
            [.text("Registrerte likepersoner"), people(cell.registeredMentors, "registered_mentors", cell)],
            [.text("Likepersoner kurset"), people(cell.mentorsTrained, "mentors_trained", cell)],
            [.text("Medlemmer"), people(cell.members, "members", cell)],
            [.text("Arrangementer"), optional(cell.events)],
            [.text("Kursdager"), optional(cell.courseDays)],
            [.text("Lokallag"), optional(cell.chapters)],
            [.text("Fylker dekket"), optional(cell.countiesCovered)],
            [.text("Krever dokumentasjon"), .integer(cell.evidenceRequired)],
            [.text("Mangler dokumentasjon"), .integer(cell.evidenceMissing)],
        ]
    }

    /// One CSV of every sheet, for Norwegian Excel: each sheet is a section of its own (its name on one line, its Norwegian column
    /// headings on the next, then its rows), sections apart by an empty line. Every record has as many fields as the widest section,
    /// the rest left empty: Excel shows nothing there, and a parser that wants one width throughout (RFC 4180, pandas) reads it.
    static func csv(_ report: BufdirReport) throws -> (data: Data, rowCounts: [String: Int]) {
        let sheets = try sheets(report)
        let width = sheets.map { sheet in sheet.rows.reduce(sheet.header.count) { max($0, $1.count) } }.max() ?? 1
        func padded(_ cells: [CSVTable.Cell]) -> [CSVTable.Cell] {
            cells + Array(repeating: .empty, count: width - cells.count)
        }
        var rows: [[CSVTable.Cell]] = []
        for sheet in sheets {
            if !rows.isEmpty { rows.append(padded([])) }
            rows.append(padded([.text(sheet.name)]))
            rows.append(padded(sheet.header.map { .text($0) }))
            rows += sheet.rows.map(padded)
        }
        return (CSVTable(header: [], rows: rows).data(), rowCounts(sheets))
    }

    static func rowCounts(_ sheets: [XLSXWorkbook.Sheet]) -> [String: Int] {
        Dictionary(sheets.map { ($0.name, $0.rows.count) }, uniquingKeysWith: +)
    }
}
