import Crypto
import Foundation
import Testing
import ZIPFoundation

@testable import Meander

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite("CSVTable")
struct CSVTableTests {
    @Test func writesBOMSemicolonsAndCRLF() {
        // given
        let table = CSVTable(
            header: ["Navn", "Antall", "Beløp"],
            rows: [
                [.text("Åse"), .integer(3), .decimal(1.5)],
                [.empty, .integer(-2), .decimal(0.75)],
            ]
        )

        // when
        let bytes = [UInt8](table.data())

        // then
        #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
        #expect(String(decoding: bytes.dropFirst(3), as: UTF8.self) == "Navn;Antall;Beløp\r\nÅse;3;1,5\r\n;-2;0,75\r\n")
    }

    @Test func quotesFieldsWithSeparatorQuoteOrLineBreak() {
        // given
        let table = CSVTable(
            header: ["plain", "a;b"],
            rows: [[.text("say \"hi\";\nbye"), .text("cr\rhere"), .text("no quotes needed, æøå")]]
        )

        // when
        let text = String(decoding: table.data().dropFirst(3), as: UTF8.self)

        // then
        #expect(text == "plain;\"a;b\"\r\n\"say \"\"hi\"\";\nbye\";\"cr\rhere\";no quotes needed, æøå\r\n")
    }

    @Test func neutralizesFormulas() {
        // given: names as users might type them
        let table = CSVTable(
            header: [],
            rows: [[.text("=HYPERLINK(\"http://x\")"), .text("+47 900"), .text("-1"), .text("@SUM(A1)"), .text("Bodø"), .integer(-3)]])

        // when
        let text = String(decoding: table.data().dropFirst(3), as: UTF8.self)

        // then: text cannot start a formula; numbers stay numbers
        #expect(text == "\"'=HYPERLINK(\"\"http://x\"\")\";'+47 900;'-1;'@SUM(A1);Bodø;-3\r\n")
    }

    @Test func leavesOutAnEmptyHeader() {
        let table = CSVTable(header: [], rows: [[.integer(1)]])
        #expect(table.data() == Data([0xEF, 0xBB, 0xBF] + Array("1\r\n".utf8)))
    }

    @Test(arguments: [
        (0.0, "0"), (-0.0, "0"), (1.0, "1"), (1.5, "1.5"), (0.75, "0.75"), (2.005, "2.01"), (1.005, "1.01"), (0.125, "0.13"),
        (1234567.0, "1234567"), (123456789.12, "123456789.12"), (0.1 + 0.2, "0.3"), (1.10, "1.1"), (0.995, "1"), (99.999, "100"),
        (0.004, "0"), (0.005, "0.01"), (-1.5, "-1.5"), (-2.005, "-2.01"), (-0.004, "0"), (-99.995, "-100"),
        (1e20, "100000000000000000000"), (1.5e-7, "0"), (12345.678, "12345.68"), (.nan, ""), (.infinity, ""),
    ])
    func formatsDecimals(value: Double, expected: String) {
        #expect(CSVTable.format(value) == expected)
    }

    @Test(arguments: [(1.5, "1,5"), (-2.005, "-2,01"), (12.0, "12"), (0.75, "0,75"), (1234567.891, "1234567,89"), (.nan, "")])
    func writesCSVDecimalsWithAComma(value: Double, expected: String) {
        #expect(CSVTable.csvDecimal(value) == expected)
    }

    @Test func writesDecimalsWithACommaAndNoQuotes() throws {
        // given
        let table = CSVTable(header: [], rows: [[.decimal(2.005), .decimal(-1234567.0), .decimal(1e-9), .decimal(0.25)]])

        // when
        let text = String(decoding: table.data().dropFirst(3), as: UTF8.self)

        // then: as Norwegian Excel reads numbers; `,` is not the separator, so nothing is quoted
        #expect(text == "2,01;-1234567;0;0,25\r\n")
        #expect(try CSVRecords.parse(text) == [["2,01", "-1234567", "0", "0,25"]])
    }

    @Test func readsBackWhatItWrites() throws {
        // given: every kind of field that needs quoting
        let fields = ["plain", "a;b", "say \"hi\"", "two\r\nlines", "", "æøå ÆØÅ"]
        let table = CSVTable(header: fields, rows: [fields.reversed().map { .text($0) }, [.integer(7), .empty, .decimal(1.5)]])

        // when
        let records = try CSVRecords.parse(String(decoding: table.data().dropFirst(3), as: UTF8.self))

        // then
        #expect(records == [fields, fields.reversed(), ["7", "", "1,5"]])
    }
}

@Suite("XLSXWorkbook")
struct XLSXWorkbookTests {
    private static let workbook = XLSXWorkbook(sheets: [
        .init(
            name: "Deltakere",
            header: ["Navn", "Alder", "Timer", "Merknad"],
            rows: [
                [.text("Åse"), .integer(42), .decimal(1.5), .empty],
                [.text(" Ola "), .integer(-7), .decimal(2.005), .text("<b>Tom & \"Jerry\"</b>\u{1}\u{FFFF}")],
            ]
        ),
        .init(name: "Tom", header: [], rows: []),
    ])

    @Test func writesTheSameBytesTwice() throws {
        try withTemporaryDirectory { directory in
            // given
            let first = directory.appendingPathComponent("first.xlsx")
            let second = directory.appendingPathComponent("second.xlsx")

            // when
            try Self.workbook.write(to: first)
            try Self.workbook.write(to: second)

            // then
            let bytes = try Data(contentsOf: first)
            #expect(bytes.count > 500)
            #expect(try bytes == Data(contentsOf: second))
        }
    }

    @Test func holdsThePackagePartsAndCells() throws {
        try withTemporaryDirectory { directory in
            // given
            let url = directory.appendingPathComponent("book.xlsx")
            try Data("not a zip".utf8).write(to: url)

            // when
            try Self.workbook.write(to: url)

            // then
            let archive = try Archive(url: url, accessMode: .read)
            #expect(
                archive.map(\.path) == [
                    "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
                    "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml",
                ])
            let sheet = try text(of: "xl/worksheets/sheet1.xml", in: archive)
            #expect(sheet.contains(#"<c r="A1" s="1" t="inlineStr"><is><t>Navn</t></is></c>"#))
            #expect(sheet.contains(#"<c r="B2"><v>42</v></c>"#))
            #expect(sheet.contains(#"<c r="C2"><v>1.5</v></c>"#))
            #expect(sheet.contains(#"<c r="C3"><v>2.01</v></c>"#))
            #expect(sheet.contains(#"<t xml:space="preserve"> Ola </t>"#))
            #expect(!sheet.contains(#"r="D2""#), "empty cells are left out")
            #expect(sheet.contains(#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#))
            #expect(sheet.contains(#"<dimension ref="A1:D3"/>"#))
            let emptySheet = try text(of: "xl/worksheets/sheet2.xml", in: archive)
            #expect(!emptySheet.contains("<pane"), "no header, nothing to freeze")
            #expect(emptySheet.contains(#"<dimension ref="A1"/><sheetData></sheetData>"#))
            #expect(try text(of: "xl/styles.xml", in: archive).contains("<font><b/>"))
            #expect(try text(of: "[Content_Types].xml", in: archive).contains(#"PartName="/xl/worksheets/sheet2.xml""#))
        }
    }

    @Test func escapesTextAndDropsCharactersXMLForbids() throws {
        try withTemporaryDirectory { directory in
            // given
            let url = directory.appendingPathComponent("escape.xlsx")

            // when
            try Self.workbook.write(to: url)

            // then
            let archive = try Archive(url: url, accessMode: .read)
            let sheet = try text(of: "xl/worksheets/sheet1.xml", in: archive)
            #expect(sheet.contains("<t>&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;</t>"))
            #expect(!sheet.contains("\u{1}") && !sheet.contains("\u{FFFF}"))
            #if canImport(FoundationXML) || canImport(Darwin)
                #expect(try inlineTexts(of: sheet) == ["Navn", "Alder", "Timer", "Merknad", "Åse", " Ola ", "<b>Tom & \"Jerry\"</b>"])
            #endif
        }
    }

    #if canImport(FoundationXML) || canImport(Darwin)
        @Test func writesWellFormedXMLInEveryPart() throws {
            try withTemporaryDirectory { directory in
                let url = directory.appendingPathComponent("wellformed.xlsx")
                let workbook = XLSXWorkbook(sheets: [
                    .init(name: "A & <B>", header: ["x\r\ny"], rows: [[.text("'\u{0}\u{8}\t")]]),
                    .init(name: "A & <B>", header: ["h"], rows: [[.decimal(.nan), .integer(Int.min)]]),
                ])
                try workbook.write(to: url)

                let archive = try Archive(url: url, accessMode: .read)
                for entry in archive {
                    let parser = XMLParser(data: try contents(of: entry, in: archive))
                    #expect(parser.parse(), "\(entry.path) is not well-formed")
                }
                #expect(try inlineTexts(of: text(of: "xl/worksheets/sheet1.xml", in: archive)) == ["x\r\ny", "'\t"])
            }
        }
    #endif

    @Test func sanitizesAndDeduplicatesSheetNames() throws {
        // given
        let long = "Rapport/2024: deltakere [alle] fra lagene"  // 41 characters
        let names = [long, long, "Data", "data", "", "'sitat'", "a?b*c\\d", "History", String(repeating: "x", count: 31)]

        // when
        let sanitized = XLSXWorkbook.sheetNames(names)

        // then
        #expect(
            sanitized == [
                "Rapport_2024_ deltakere _alle_", "Rapport_2024_ deltakere _al (2)", "Data", "data (2)", "Sheet", "sitat", "a_b_c_d",
                "History_", String(repeating: "x", count: 31),
            ])
        #expect(sanitized.allSatisfy { $0.utf16.count <= 31 })
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("names.xlsx")
            try XLSXWorkbook(sheets: names.map { .init(name: $0, header: ["h"], rows: []) }).write(to: url)
            let workbookXML = try text(of: "xl/workbook.xml", in: Archive(url: url, accessMode: .read))
            #expect(workbookXML.contains(#"<sheet name="Rapport_2024_ deltakere _al (2)" sheetId="2" r:id="rId2"/>"#))
            #expect(workbookXML.contains(#"<sheet name="sitat" sheetId="6" r:id="rId6"/>"#))
        }
    }

    @Test(arguments: [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"), (701, "ZZ"), (702, "AAA"), (16_383, "XFD")])
    func namesColumns(index: Int, expected: String) {
        #expect(XLSXWorkbook.columnName(index) == expected)
    }

    @Test func refersToCellsPastColumnZ() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("wide.xlsx")
            let row: [CSVTable.Cell] = (1...28).map { .integer($0) }
            try XLSXWorkbook(sheets: [.init(name: "Bred", header: [], rows: [row])]).write(to: url)

            let sheet = try text(of: "xl/worksheets/sheet1.xml", in: Archive(url: url, accessMode: .read))
            #expect(sheet.contains(#"<c r="Z1"><v>26</v></c><c r="AA1"><v>27</v></c><c r="AB1"><v>28</v></c></row>"#))
        }
    }

    @Test func writesAHundredThousandRows() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("big.xlsx")
            let rows: [[CSVTable.Cell]] = (0..<100_000).map { [.integer($0), .text("rad \($0)"), .decimal(Double($0) / 4)] }
            try XLSXWorkbook(sheets: [.init(name: "Stor", header: ["n", "tekst", "kvart"], rows: rows)]).write(to: url)

            let sheet = try text(of: "xl/worksheets/sheet1.xml", in: Archive(url: url, accessMode: .read))
            #expect(
                sheet.hasSuffix(
                    #"<row r="100001"><c r="A100001"><v>99999</v></c><c r="B100001" t="inlineStr"><is><t>rad 99999</t></is></c>"#
                        + #"<c r="C100001"><v>24999.75</v></c></row></sheetData></worksheet>"#))
        }
    }

    @Test func refusesAWorkbookWithoutSheetsAndLeavesNoFile() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("none.xlsx")
            #expect(throws: XLSXWorkbook.Failure.noSheets) { try XLSXWorkbook(sheets: []).write(to: url) }
            #expect(!FileManager.default.fileExists(atPath: url.path))
        }
    }
}

@Suite("ZipBundleWriter")
struct ZipBundleWriterTests {
    /// 3 MB of bytes that are partly random, partly repetitive, so deflate has work to do: the same every run.
    private static let bigData: Data = {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var bytes = [UInt8](repeating: 0, count: 3 * 1024 * 1024 + 17)
        for index in bytes.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[index] = index % 3 == 0 ? UInt8(truncatingIfNeeded: state >> 56) : UInt8(index % 251)
        }
        return Data(bytes)
    }()
    private static let smallData = Data("Hei på deg\n".utf8)

    @Test func sameEntriesFromMemoryOrFileGiveIdenticalArchives() throws {
        try withTemporaryDirectory { directory in
            // given
            let bigFile = directory.appendingPathComponent("big.bin")
            let emptyFile = directory.appendingPathComponent("empty.bin")
            try Self.bigData.write(to: bigFile)
            try Data().write(to: emptyFile)
            let fromMemory = directory.appendingPathComponent("memory.zip")
            let fromFiles = directory.appendingPathComponent("files.zip")

            // when
            let memoryWriter = try ZipBundleWriter(creating: fromMemory)
            let memoryResults = [
                try memoryWriter.add(path: "notes/hei.txt", data: Self.smallData),
                try memoryWriter.add(path: "data/big.bin", data: Self.bigData),
                try memoryWriter.add(path: "data/big-stored.bin", data: Self.bigData, compress: false),
                try memoryWriter.add(path: "empty.bin", data: Data()),
            ]
            try memoryWriter.close()
            let fileWriter = try ZipBundleWriter(creating: fromFiles)
            let fileResults = [
                try fileWriter.add(path: "notes/hei.txt", data: Self.smallData),
                try fileWriter.add(path: "data/big.bin", contentsOf: bigFile),
                try fileWriter.add(path: "data/big-stored.bin", contentsOf: bigFile, compress: false),
                try fileWriter.add(path: "empty.bin", contentsOf: emptyFile),
            ]
            try fileWriter.close()

            // then
            let archiveBytes = try Data(contentsOf: fromMemory)
            #expect(try archiveBytes == Data(contentsOf: fromFiles))
            #expect(archiveBytes.count < 2 * Self.bigData.count, "the first copy of big.bin is compressed")
            #expect(archiveBytes.count > Self.bigData.count, "the second copy of big.bin is stored")
            let inputs = [Self.smallData, Self.bigData, Self.bigData, Data()]
            for (results, name) in [(memoryResults, "memory"), (fileResults, "files")] {
                #expect(results.map(\.sha256) == inputs.map(independentSHA256), "\(name)")
                #expect(results.map(\.size) == inputs.map(\.count), "\(name)")
            }
        }
    }

    @Test func readsBackTheSameBytesWithTheFixedDateAndPermissions() throws {
        try withTemporaryDirectory { directory in
            // given
            let url = directory.appendingPathComponent("bundle.zip")
            let entries = ["a.txt": Self.smallData, "b/big.bin": Self.bigData, "c/stored.bin": Self.smallData]

            // when
            let writer = try ZipBundleWriter(creating: url)
            for path in entries.keys.sorted() {
                try writer.add(path: path, data: entries[path]!, compress: path != "c/stored.bin")
            }
            try writer.close()

            // then
            let archive = try Archive(url: url, accessMode: .read)
            #expect(archive.map(\.path) == entries.keys.sorted())
            for entry in archive {
                #expect(try contents(of: entry, in: archive) == entries[entry.path])
                #expect(entry.fileAttributes[.modificationDate] as? Date == ZipBundleWriter.fixedDate)
                #expect((entry.fileAttributes[.posixPermissions] as? NSNumber)?.uint16Value == 0o644)
                #expect(entry.isCompressed == (entry.path != "c/stored.bin"))
            }
            // The first local header's DOS time and date fields (offset 10): 00:00:00 and 2000-01-01, i.e. (20 << 9) | (1 << 5) | 1.
            let header = [UInt8](try Data(contentsOf: url).prefix(14))
            #expect(Array(header[0..<4]) == [0x50, 0x4B, 0x03, 0x04])
            #expect(Array(header[10..<14]) == [0x00, 0x00, 0x21, 0x28])
        }
    }

    @Test func refusesBadAndRepeatedPathsButKeepsGoing() throws {
        try withTemporaryDirectory { directory in
            // given
            let url = directory.appendingPathComponent("paths.zip")
            let writer = try ZipBundleWriter(creating: url)
            try writer.add(path: "ok.txt", data: Self.smallData)

            // when, then
            for bad in ["", "/abs.txt", "../up.txt", "a/../b.txt", "a//b.txt", "dir/", "back\\slash.txt", "./here.txt", "nul\u{0}.txt"] {
                #expect(throws: ZipBundleWriter.Failure.invalidPath(bad)) { try writer.add(path: bad, data: Self.smallData) }
            }
            #expect(throws: ZipBundleWriter.Failure.duplicatePath("ok.txt")) { try writer.add(path: "ok.txt", data: Data()) }
            try writer.add(path: "later.txt", data: Self.smallData)
            try writer.close()
            try writer.close()
            #expect(throws: ZipBundleWriter.Failure.closed) { try writer.add(path: "closed.txt", data: Data()) }
            #expect(try Archive(url: url, accessMode: .read).map(\.path) == ["ok.txt", "later.txt"])
        }
    }

    @Test func goesOnAfterAFileThatCannotBeOpened() throws {
        try withTemporaryDirectory { directory in
            // given
            let url = directory.appendingPathComponent("missing.zip")
            let writer = try ZipBundleWriter(creating: url)

            // when
            #expect(throws: (any Error).self) {
                try writer.add(path: "missing.bin", contentsOf: directory.appendingPathComponent("no-such-file"))
            }
            #expect(throws: ZipBundleWriter.Failure.notAFile(directory)) { try writer.add(path: "directory", contentsOf: directory) }

            // then: nothing was written, so the writer goes on
            try writer.add(path: "fine.txt", data: Self.smallData)
            try writer.close()
            #expect(try Archive(url: url, accessMode: .read).map(\.path) == ["fine.txt"])
        }
    }

    #if os(Linux)
        @Test func refusesFurtherEntriesAfterAFileThatChanged() throws {
            try withTemporaryDirectory { directory in
                // given: procfs reports a size of 0 for a file that has content, as if it grew while being read
                let writer = try ZipBundleWriter(creating: directory.appendingPathComponent("changed.zip"))
                let changing = URL(fileURLWithPath: "/proc/self/status")

                // when, then
                #expect(throws: ZipBundleWriter.Failure.fileChanged(changing)) { try writer.add(path: "status", contentsOf: changing) }
                #expect(throws: ZipBundleWriter.Failure.damagedByEarlierError) { try writer.add(path: "later.txt", data: Self.smallData) }
            }
        }
    #endif
}

// MARK: - Helpers

/// A reader of `;`-separated CSV as a spreadsheet reads it (RFC 4180 with `;`), written apart from `CSVTable`: records end with
/// CRLF, a quoted field may hold `;`, CR, LF and doubled quotes.
enum CSVRecords {
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    /// Every record of `text` (without its BOM), each as its fields.
    static func parse(_ text: String) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var scalars = Array(text.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            if quoted {
                if scalar == "\"" {
                    if scalars.first == "\"" {
                        scalars.removeFirst()
                        field.unicodeScalars.append("\"")
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty: quoted = true
            case "\"": throw Malformed(description: "a quote inside the unquoted field '\(field)'")
            case ";":
                record.append(field)
                field = ""
            case "\r":
                guard scalars.popFirst() == "\n" else { throw Malformed(description: "a CR without LF after '\(field)'") }
                record.append(field)
                records.append(record)
                (record, field) = ([], "")
            case "\n": throw Malformed(description: "a bare LF after '\(field)'")
            default: field.unicodeScalars.append(scalar)
            }
        }
        guard !quoted else { throw Malformed(description: "an unterminated quoted field") }
        guard record.isEmpty && field.isEmpty else { throw Malformed(description: "a last record without CRLF") }
        return records
    }
}

private func withTemporaryDirectory(_ body: (URL) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ExportFormatTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try body(directory)
}

private func contents(of entry: Entry, in archive: Archive) throws -> Data {
    var data = Data()
    _ = try archive.extract(entry) { data.append($0) }
    return data
}

private func text(of path: String, in archive: Archive) throws -> String {
    let entry = try #require(archive[path])
    return String(decoding: try contents(of: entry, in: archive), as: UTF8.self)
}

/// SHA-256 as lowercase hex, computed apart from the code under test.
private func independentSHA256(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}

#if canImport(FoundationXML) || canImport(Darwin)
    /// The text of every `<t>` element of a worksheet, as an XML parser reads it.
    private func inlineTexts(of xml: String) throws -> [String] {
        let collector = InlineTextCollector()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = collector
        try #require(parser.parse())
        return collector.texts
    }

    private final class InlineTextCollector: NSObject, XMLParserDelegate {
        var texts: [String] = []
        private var current: String?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if elementName == "t" { current = "" }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            current?.append(string)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            if elementName == "t", let current { texts.append(current) }
            current = nil
        }
    }
#endif
