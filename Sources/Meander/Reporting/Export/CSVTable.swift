import Foundation

/// A table written as CSV for Norwegian Excel: UTF-8 with a BOM, `;` separated, CRLF line ends, fields quoted when they contain `;`,
/// `"`, CR or LF (quotes doubled). Decimals are written with a comma (`1,5`), whatever the server's locale.
///
/// Norwegian Excel reads `;` as the list separator and `,` as the decimal point (a `1.5` becomes text, or a date), and needs the
/// BOM to take the file as UTF-8 (without it `æøå` come out mangled).
/// The header is the first record unless it is empty; every record, the last one too, ends with CRLF. Rows are written as given,
/// so a row shorter or longer than the header stays so. Text that Excel would take for a formula (`=`, `+`, `-`, `@`
/// first) is written with a leading `'`: names typed by users end up in these files.
struct CSVTable: Sendable {
    var header: [String]
    var rows: [[CSVTable.Cell]]

    /// One field. `decimal` is written by `CSVTable.csvDecimal(_:)`; `empty` as nothing.
    enum Cell: Sendable, Equatable {
        case text(String)
        case integer(Int)
        case decimal(Double)
        case empty
    }

    /// The UTF-8 byte order mark that tells Excel the file is UTF-8.
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// The whole file's bytes (BOM first).
    func data() -> Data {
        var bytes = Self.byteOrderMark
        if !header.isEmpty {
            Self.appendRecord(header.map { Cell.text($0) }, to: &bytes)
        }
        for row in rows {
            Self.appendRecord(row, to: &bytes)
        }
        return Data(bytes)
    }

    /// A decimal as XLSX stores it (and the CSV, with a comma): `.` as the point whatever the locale, never in scientific notation,
    /// rounded half away from zero to at most two decimals with trailing zeros dropped (`12`, `1.5`, `0.75`, `2.005` → `2.01`,
    /// `-0.001` → `0`).
    /// NaN and the infinities have no such form and give the empty string.
    ///
    /// It rounds the shortest decimal that reads back as `value` (Swift's `description`), not the binary value: `2.005` is stored as
    /// 2.00499999…, and whoever typed it expects `2.01`.
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "" }
        let (digits, pointIndex) = shortestDecimalDigits(of: value.magnitude)
        func digit(at index: Int) -> UInt8 { digits.indices.contains(index) ? digits[index] : 0 }

        // Everything before the point, then two decimals; the third decimal decides the rounding.
        var kept = (0..<max(pointIndex, 0)).map { digit(at: $0) }
        kept.append(digit(at: pointIndex))
        kept.append(digit(at: pointIndex + 1))
        if digit(at: pointIndex + 2) >= 5 {
            var index = kept.count - 1
            while index >= 0 && kept[index] == 9 {
                kept[index] = 0
                index -= 1
            }
            if index >= 0 { kept[index] += 1 } else { kept.insert(1, at: 0) }
        }

        var integerDigits = kept.dropLast(2).drop(while: { $0 == 0 })
        var fractionDigits = Array(kept.suffix(2))
        while fractionDigits.last == 0 { fractionDigits.removeLast() }
        if integerDigits.isEmpty { integerDigits = [0] }

        let isZero = integerDigits == [0] && fractionDigits.isEmpty
        var text = value < 0 && !isZero ? "-" : ""
        text.unicodeScalars.append(contentsOf: integerDigits.map { Unicode.Scalar(UInt8(ascii: "0") + $0) })
        if !fractionDigits.isEmpty {
            text.append(".")
            text.unicodeScalars.append(contentsOf: fractionDigits.map { Unicode.Scalar(UInt8(ascii: "0") + $0) })
        }
        return text
    }

    /// A decimal as the CSV writes it: `format(_:)` with a comma for the point (`1,5`, `-2,01`, `12`), as Norwegian Excel reads
    /// numbers. No quotes are needed: the separator is `;`.
    static func csvDecimal(_ value: Double) -> String {
        String(format(value).map { $0 == "." ? "," : $0 })
    }

    /// The digits of the shortest round-tripping decimal for a finite, non-negative `magnitude`, without leading zeros, and how many
    /// of them stand before the point (negative when zeros follow the point first): 0.0075 is `([7, 5], -2)`, 120 is `([1, 2], 3)`.
    private static func shortestDecimalDigits(of magnitude: Double) -> (digits: [UInt8], pointIndex: Int) {
        // `description` is "120.0", "0.0075", "1e-05" or "1.2345e+16": a mantissa and an optional exponent, no locale.
        let text = magnitude.description
        let parts = text.split(separator: "e", maxSplits: 1)
        let exponent = parts.count == 2 ? Int(parts[1]) ?? 0 : 0
        let mantissa = parts[0].split(separator: ".", maxSplits: 1)
        let integerPart = mantissa[0]
        let fractionPart = mantissa.count == 2 ? mantissa[1] : ""

        var digits = (integerPart + fractionPart).utf8.map { $0 &- UInt8(ascii: "0") }
        var pointIndex = integerPart.utf8.count + exponent
        while digits.first == 0 {
            digits.removeFirst()
            pointIndex -= 1
        }
        return (digits, pointIndex)
    }

    private static func appendRecord(_ cells: [Cell], to bytes: inout [UInt8]) {
        for (index, cell) in cells.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ";")) }
            switch cell {
            case .text(let text): appendField(text, to: &bytes)
            case .integer(let value): bytes.append(contentsOf: String(value).utf8)
            case .decimal(let value): bytes.append(contentsOf: csvDecimal(value).utf8)
            case .empty: break
            }
        }
        bytes.append(contentsOf: [0x0D, 0x0A])
    }

    /// First characters that make Excel read a cell as a formula (CSV injection, OWASP).
    static let formulaPrefixes: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    /// Text as it is written: a value that Excel would run as a formula gets a leading `'`, so it shows as text.
    static func neutralized(_ text: String) -> String {
        guard let first = text.first, formulaPrefixes.contains(first) else { return text }
        return "'" + text
    }

    private static func appendField(_ raw: String, to bytes: inout [UInt8]) {
        let text = neutralized(raw)
        let utf8 = text.utf8
        let needsQuotes = utf8.contains { $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: "\"") || $0 == 0x0D || $0 == 0x0A }
        guard needsQuotes else {
            bytes.append(contentsOf: utf8)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        for byte in utf8 {
            if byte == UInt8(ascii: "\"") { bytes.append(byte) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
