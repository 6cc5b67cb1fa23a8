import Foundation

/// `Content-Disposition` values for downloads, safe for any user-given file name.
enum ContentDisposition {
    /// RFC 8187's attr-char: what may stand unencoded in `filename*`.
    private static let attrChars = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~".utf8)

    /// `attachment; filename="<ASCII stand-in>"; filename*=UTF-8''<percent-encoded name>` (RFC 6266, RFC 8187):
    /// browsers use the UTF-8 name, old clients the stand-in, in which every character that is not printable
    /// ASCII, and `"`, `\`, `/`, becomes `_`.
    static func attachment(fileName: String) -> String {
        let name = fileName.isEmpty ? "file" : fileName
        var fallback = ""
        for scalar in name.unicodeScalars {
            let printable = scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7f
            fallback.unicodeScalars.append(printable && !"\"\\/".unicodeScalars.contains(scalar) ? scalar : "_")
        }
        var encoded = ""
        for byte in name.utf8 {
            let isAttrChar = attrChars.contains(byte)
            encoded += isAttrChar ? String(UnicodeScalar(byte)) : String(format: "%%%02X", byte)
        }
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}
