import Foundation

/// A real Office Open XML workbook (one sheet per `Sheet`), written deterministically: same input, same bytes.
///
/// The package is the smallest that Excel, LibreOffice and openpyxl open: content types, relationships, the workbook, a style sheet
/// whose second cell format is bold (for the header row) and one worksheet per sheet. Text is written as inline strings, so there is
/// no shared-strings table; numbers as `<v>` in `CSVTable.format(_:)`'s form; empty cells (and NaN or infinite decimals) are left
/// out. The header row, when there is one, is bold and frozen. There are no document properties, so no timestamps, and the ZIP is
/// written by `ZipBundleWriter` with its fixed dates.
struct XLSXWorkbook: Sendable {
    /// One worksheet: a bold, frozen header row (none when `header` is empty), then `rows`.
    struct Sheet: Sendable {
        /// Any text: it is made into a name Excel accepts (see `XLSXWorkbook.sheetNames(_:)`).
        var name: String
        var header: [String]
        var rows: [[CSVTable.Cell]]
    }

    var sheets: [Sheet]

    /// Why a workbook could not be written.
    enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// A workbook needs at least one sheet.
        case noSheets
        /// The sheet has more rows (header included) than Excel's 1,048,576.
        case tooManyRows(sheet: String, count: Int)
        /// A row of the sheet has more cells than Excel's 16,384 columns.
        case tooManyColumns(sheet: String, count: Int)

        var description: String {
            switch self {
            case .noSheets: "a workbook needs at least one sheet"
            case .tooManyRows(let sheet, let count): "sheet '\(sheet)' has \(count) rows; Excel allows \(XLSXWorkbook.maxRows)"
            case .tooManyColumns(let sheet, let count): "sheet '\(sheet)' has \(count) columns; Excel allows \(XLSXWorkbook.maxColumns)"
            }
        }
    }

    /// Excel's limits: rows and columns per sheet, UTF-16 code units per cell and per sheet name.
    static let maxRows = 1_048_576
    static let maxColumns = 16_384
    static let maxCellLength = 32_767
    static let maxSheetNameLength = 31

    /// Writes the workbook to `url` (replacing any file there).
    ///
    /// Text longer than Excel's 32,767 characters per cell is cut there (Excel calls a longer one a damaged file). A workbook
    /// beyond Excel's limits, or with no sheet, is refused with `Failure` before `url` is touched; a write that fails later
    /// removes its partial file.
    func write(to url: URL) throws {
        guard !sheets.isEmpty else { throw Failure.noSheets }
        for sheet in sheets {
            let rowCount = sheet.rows.count + (sheet.header.isEmpty ? 0 : 1)
            guard rowCount <= Self.maxRows else { throw Failure.tooManyRows(sheet: sheet.name, count: rowCount) }
            let columnCount = sheet.rows.reduce(sheet.header.count) { max($0, $1.count) }
            guard columnCount <= Self.maxColumns else { throw Failure.tooManyColumns(sheet: sheet.name, count: columnCount) }
        }

        let zip = try ZipBundleWriter(creating: url)
        do {
            try zip.add(path: "[Content_Types].xml", data: contentTypesXML())
            try zip.add(path: "_rels/.rels", data: Self.packageRelationshipsXML)
            try zip.add(path: "xl/workbook.xml", data: workbookXML())
            try zip.add(path: "xl/_rels/workbook.xml.rels", data: workbookRelationshipsXML())
            try zip.add(path: "xl/styles.xml", data: Self.stylesXML)
            for (index, sheet) in sheets.enumerated() {
                try zip.add(path: "xl/worksheets/sheet\(index + 1).xml", data: Self.worksheetXML(sheet))
            }
            try zip.close()
        } catch {
            try? zip.close()
            try? FileManager.default.removeItem(at: url)
            throw error
        }
    }

    // MARK: - Sheet names

    /// Names Excel accepts for `names`, in order: characters Excel forbids (`[]:*?/\`) become `_`, control characters go, so do
    /// apostrophes and white space at either end; at most 31 characters; `Sheet` for an empty name, `History_` for the name Excel
    /// keeps for itself; and names equal but for case get ` (2)`, ` (3)`, … so every name is unique.
    static func sheetNames(_ names: [String]) -> [String] {
        var taken: Set<String> = []
        return names.map { raw in
            let base = sanitizedSheetName(raw)
            var name = base
            var number = 2
            while taken.contains(name.lowercased()) {
                let suffix = " (\(number))"
                name = trimmedEnds(prefix(base, utf16Length: maxSheetNameLength - suffix.utf16.count)) + suffix
                number += 1
            }
            taken.insert(name.lowercased())
            return name
        }
    }

    private static func sanitizedSheetName(_ raw: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in raw.unicodeScalars {
            if "[]:*?/\\".unicodeScalars.contains(scalar) {
                scalars.append("_")
            } else if scalar.properties.generalCategory != .control && isXMLCharacter(scalar) {
                scalars.append(scalar)
            }
        }
        let name = trimmedEnds(prefix(trimmedEnds(String(scalars)), utf16Length: maxSheetNameLength))
        if name.isEmpty { return "Sheet" }
        // Excel keeps "History" for itself.
        if name.lowercased() == "history" { return name + "_" }
        return name
    }

    /// `text` without apostrophes (which Excel forbids there) and white space (which only confuses) at either end.
    private static func trimmedEnds(_ text: String) -> String {
        text.trimmingCharacters(in: CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: "'")))
    }

    /// The longest prefix of `text` of at most `utf16Length` UTF-16 code units that does not split a character.
    private static func prefix(_ text: String, utf16Length: Int) -> String {
        guard text.utf16.count > utf16Length else { return text }
        var length = 0
        var end = text.startIndex
        for index in text.indices {
            let next = text.index(after: index)
            length += text.utf16.distance(from: index, to: next)
            guard length <= utf16Length else { break }
            end = next
        }
        return String(text[..<end])
    }

    // MARK: - Package parts

    private static let declaration = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
    private static let mainNamespace = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    private static let relationshipNamespace = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

    private func contentTypesXML() -> Data {
        var xml = Self.declaration
        xml += #"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#
        xml += #"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#
        xml += #"<Default Extension="xml" ContentType="application/xml"/>"#
        xml += #"<Override PartName="/xl/workbook.xml" "#
        xml += #"ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#
        xml += #"<Override PartName="/xl/styles.xml" "#
        xml += #"ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#
        for index in sheets.indices {
            xml += #"<Override PartName="/xl/worksheets/sheet\#(index + 1).xml" "#
            xml += #"ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
        }
        xml += "</Types>"
        return Data(xml.utf8)
    }

    private static let packageRelationshipsXML = Data(
        (declaration + #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
            + #"<Relationship Id="rId1" Type="\#(relationshipNamespace)/officeDocument" Target="xl/workbook.xml"/>"#
            + "</Relationships>").utf8
    )

    private func workbookXML() -> Data {
        var xml = Self.declaration
        xml += #"<workbook xmlns="\#(Self.mainNamespace)" xmlns:r="\#(Self.relationshipNamespace)">"#
        xml += #"<bookViews><workbookView/></bookViews><sheets>"#
        for (index, name) in Self.sheetNames(sheets.map(\.name)).enumerated() {
            var escaped: [UInt8] = []
            XMLText.appendEscaped(name, to: &escaped)
            xml += #"<sheet name="\#(String(decoding: escaped, as: UTF8.self))" sheetId="\#(index + 1)" r:id="rId\#(index + 1)"/>"#
        }
        xml += "</sheets></workbook>"
        return Data(xml.utf8)
    }

    private func workbookRelationshipsXML() -> Data {
        var xml = Self.declaration
        xml += #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
        for index in sheets.indices {
            xml += #"<Relationship Id="rId\#(index + 1)" Type="\#(Self.relationshipNamespace)/worksheet" "#
            xml += #"Target="worksheets/sheet\#(index + 1).xml"/>"#
        }
        xml += #"<Relationship Id="rId\#(sheets.count + 1)" Type="\#(Self.relationshipNamespace)/styles" Target="styles.xml"/>"#
        xml += "</Relationships>"
        return Data(xml.utf8)
    }

    /// Cell format 0 is plain, 1 is bold (the header row). Excel insists on the two built-in fills and on one border.
    private static let stylesXML = Data(
        (declaration + #"<styleSheet xmlns="\#(mainNamespace)">"#
            + #"<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>"#
            + #"<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>"#
            + #"<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>"#
            + #"<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"#
            + #"<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#
            + #"<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>"#
            + #"<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>"#
            + #"<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>"#
            + "</styleSheet>").utf8
    )

    /// The worksheet part, built in one growing buffer: linear in the number of cells.
    private static func worksheetXML(_ sheet: Sheet) -> Data {
        let columnCount = sheet.rows.reduce(sheet.header.count) { max($0, $1.count) }
        let columns = (0..<columnCount).map { Array(columnName($0).utf8) }
        var xml: [UInt8] = []
        xml.reserveCapacity(256 + 24 * sheet.rows.count * max(columnCount, 1))

        xml.append(contentsOf: declaration.utf8)
        xml.append(contentsOf: #"<worksheet xmlns="\#(mainNamespace)">"#.utf8)
        // The used range: optional, but readers such as openpyxl's read-only mode take the sheet's size from it.
        let rowCount = sheet.rows.count + (sheet.header.isEmpty ? 0 : 1)
        let lastCell = columnCount > 0 && rowCount > 0 ? ":\(columnName(columnCount - 1))\(rowCount)" : ""
        xml.append(contentsOf: #"<dimension ref="A1\#(lastCell)"/>"#.utf8)
        var rowNumber = 0
        if !sheet.header.isEmpty {
            xml.append(contentsOf: #"<sheetViews><sheetView workbookViewId="0">"#.utf8)
            xml.append(contentsOf: #"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#.utf8)
            xml.append(contentsOf: "</sheetView></sheetViews>".utf8)
        }
        xml.append(contentsOf: "<sheetData>".utf8)
        if !sheet.header.isEmpty {
            rowNumber += 1
            appendRow(sheet.header.map { .text($0) }, number: rowNumber, style: 1, columns: columns, to: &xml)
        }
        for row in sheet.rows {
            rowNumber += 1
            appendRow(row, number: rowNumber, style: nil, columns: columns, to: &xml)
        }
        xml.append(contentsOf: "</sheetData></worksheet>".utf8)
        return Data(xml)
    }

    private static func appendRow(_ cells: [CSVTable.Cell], number: Int, style: Int?, columns: [[UInt8]], to xml: inout [UInt8]) {
        let rowNumber = Array(String(number).utf8)
        xml.append(contentsOf: #"<row r=""#.utf8)
        xml.append(contentsOf: rowNumber)
        xml.append(contentsOf: #"">"#.utf8)
        for (column, cell) in cells.enumerated() {
            let value: String
            let isText: Bool
            switch cell {
            case .text(let text) where !text.isEmpty: (value, isText) = (text, true)
            case .integer(let integer): (value, isText) = (String(integer), false)
            case .decimal(let decimal) where decimal.isFinite: (value, isText) = (CSVTable.format(decimal), false)
            case .text, .decimal, .empty: continue
            }
            xml.append(contentsOf: #"<c r=""#.utf8)
            xml.append(contentsOf: columns[column])
            xml.append(contentsOf: rowNumber)
            xml.append(UInt8(ascii: "\""))
            if let style { xml.append(contentsOf: #" s="\#(style)""#.utf8) }
            if isText {
                let text = prefix(value, utf16Length: maxCellLength)
                let preserve = text.first.map(\.isWhitespace) == true || text.last.map(\.isWhitespace) == true
                xml.append(contentsOf: (preserve ? #" t="inlineStr"><is><t xml:space="preserve">"# : #" t="inlineStr"><is><t>"#).utf8)
                XMLText.appendEscaped(text, to: &xml)
                xml.append(contentsOf: "</t></is></c>".utf8)
            } else {
                xml.append(contentsOf: "><v>".utf8)
                xml.append(contentsOf: value.utf8)
                xml.append(contentsOf: "</v></c>".utf8)
            }
        }
        xml.append(contentsOf: "</row>".utf8)
    }

    /// The letters of the zero-based `index`th column: A … Z, AA … AZ, BA … XFD.
    static func columnName(_ index: Int) -> String {
        var scalars: [Unicode.Scalar] = []
        var rest = index + 1
        while rest > 0 {
            rest -= 1
            scalars.append(Unicode.Scalar(UInt8(ascii: "A") + UInt8(rest % 26)))
            rest /= 26
        }
        var name = ""
        name.unicodeScalars.append(contentsOf: scalars.reversed())
        return name
    }

    fileprivate static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        // XML 1.0: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]; a Swift scalar is never a surrogate.
        switch scalar.value {
        case 0x09, 0x0A, 0x0D, 0x20...0xFFFD, 0x10000...: true
        default: false
        }
    }
}

/// Escaping of text for XML element content and attribute values.
private enum XMLText {
    /// Appends `text` as UTF-8 with `& < > " '` escaped, CR as `&#13;` (a parser would otherwise turn it into LF) and the characters
    /// XML 1.0 forbids dropped.
    static func appendEscaped(_ text: some StringProtocol, to xml: inout [UInt8]) {
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": xml.append(contentsOf: "&amp;".utf8)
            case "<": xml.append(contentsOf: "&lt;".utf8)
            case ">": xml.append(contentsOf: "&gt;".utf8)
            case "\"": xml.append(contentsOf: "&quot;".utf8)
            case "'": xml.append(contentsOf: "&apos;".utf8)
            case "\r": xml.append(contentsOf: "&#13;".utf8)
            default:
                guard XLSXWorkbook.isXMLCharacter(scalar) else { continue }
                xml.append(contentsOf: scalar.utf8)
            }
        }
    }
}
