import Crypto
import Foundation

/// AWS Signature Version 4, as S3 and S3-compatible stores check it: signed `Authorization` headers and presigned
/// (query-string) URLs.
///
/// The steps follow AWS's description (canonical request → string to sign → signing key → signature) and are
/// visible to tests, which check them against AWS's published examples.
struct SigV4Signer: Sendable, CustomStringConvertible {
    static let algorithm = "AWS4-HMAC-SHA256"
    /// The payload hash of a presigned URL: the body is not known when the URL is made.
    static let unsignedPayload = "UNSIGNED-PAYLOAD"

    var accessKeyID: String
    var secretAccessKey: String
    var region: String
    var service: String

    init(accessKeyID: String, secretAccessKey: String, region: String, service: String = "s3") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    /// Never the secret.
    var description: String { "SigV4Signer(accessKeyID: \(accessKeyID), region: \(region), service: \(service))" }

    /// One request to sign.
    struct Request: Sendable {
        var method: String
        /// The absolute path exactly as sent, already URI-encoded (see `encodePath`).
        var path: String
        /// Query parameters, not encoded; the signer encodes and sorts them.
        var query: [(String, String)]
        /// The headers to sign, `host` among them.
        var headers: [(String, String)]
        /// Hex SHA-256 of the body, or `unsignedPayload`.
        var payloadHash: String

        init(
            method: String, path: String, query: [(String, String)] = [], headers: [(String, String)],
            payloadHash: String
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    // MARK: - Signing

    /// The request's headers plus `x-amz-date` (unless given) and `Authorization`: everything to send.
    func signedHeaders(for request: Request, at date: Date) -> [(String, String)] {
        var request = request
        if !request.headers.contains(where: { $0.0.lowercased() == "x-amz-date" }) {
            request.headers.append(("x-amz-date", Self.timestamp(date)))
        }
        let canonical = canonicalRequest(request)
        let signature = signature(stringToSign: stringToSign(canonicalRequest: canonical, at: date), at: date)
        let authorization =
            "\(Self.algorithm) Credential=\(accessKeyID)/\(scope(at: date)), "
            + "SignedHeaders=\(Self.signedHeaderNames(request.headers)), Signature=\(signature)"
        return request.headers + [("Authorization", authorization)]
    }

    /// The query of a presigned URL for `request` (its own parameters, the `X-Amz-*` ones and `X-Amz-Signature`
    /// last), valid for `expires` seconds from `date`.
    func presignedQuery(for request: Request, at date: Date, expires: Int) -> [(String, String)] {
        var request = request
        request.query += [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(accessKeyID)/\(scope(at: date))"),
            ("X-Amz-Date", Self.timestamp(date)),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", Self.signedHeaderNames(request.headers)),
        ]
        let canonical = canonicalRequest(request)
        let signature = signature(stringToSign: stringToSign(canonicalRequest: canonical, at: date), at: date)
        return request.query + [("X-Amz-Signature", signature)]
    }

    // MARK: - The steps

    /// Method, path, sorted query, sorted headers, their names and the payload hash, one per line.
    func canonicalRequest(_ request: Request) -> String {
        let headers = Self.canonicalHeaders(request.headers)
        return [
            request.method.uppercased(),
            request.path.isEmpty ? "/" : request.path,
            Self.canonicalQueryString(request.query),
            headers.map { "\($0.name):\($0.value)\n" }.joined(),
            headers.map(\.name).joined(separator: ";"),
            request.payloadHash,
        ].joined(separator: "\n")
    }

    func stringToSign(canonicalRequest: String, at date: Date) -> String {
        [Self.algorithm, Self.timestamp(date), scope(at: date), Digest.sha256Hex(Data(canonicalRequest.utf8))]
            .joined(separator: "\n")
    }

    /// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
    func signingKey(at date: Date) -> SymmetricKey {
        var key = SymmetricKey(data: Data(("AWS4" + secretAccessKey).utf8))
        for part in [Self.day(date), region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    func signature(stringToSign: String, at date: Date) -> String {
        Digest.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(at: date)))
    }

    /// `YYYYMMDD/region/service/aws4_request`.
    func scope(at date: Date) -> String {
        "\(Self.day(date))/\(region)/\(service)/aws4_request"
    }

    // MARK: - Encoding

    /// Parameters encoded with `encode`, sorted by name then value, joined with `&`.
    static func canonicalQueryString(_ query: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (name: encode($0.0), value: encode($0.1)) }
        let sorted = encoded.sorted { lhs, rhs in lhs.name == rhs.name ? lhs.value < rhs.value : lhs.name < rhs.name }
        return sorted.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
    }

    /// SigV4's URI encoding: every byte but the unreserved `A–Z a–z 0–9 - _ . ~` as `%XX` (upper-case hex).
    static func encode(_ string: String) -> String {
        var encoded = ""
        for byte in string.utf8 {
            if unreserved.contains(byte) {
                encoded.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                encoded += String(format: "%%%02X", byte)
            }
        }
        return encoded
    }

    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)

    /// Each `/`-separated segment encoded with `encode` (S3 encodes object keys once, keeping the slashes).
    static func encodePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }
            .joined(separator: "/")
    }

    /// Lower-cased names, sorted; values trimmed with inner runs of spaces collapsed; repeated names joined by `,`.
    static func canonicalHeaders(_ headers: [(String, String)]) -> [(name: String, value: String)] {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let trimmed = value.trimmingCharacters(in: .whitespaces)
                .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            merged[name.lowercased(), default: []].append(trimmed)
        }
        return merged.keys.sorted().map { (name: $0, value: merged[$0]!.joined(separator: ",")) }
    }

    static func signedHeaderNames(_ headers: [(String, String)]) -> String {
        canonicalHeaders(headers).map(\.name).joined(separator: ";")
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC.
    static func timestamp(_ date: Date) -> String {
        let parts = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!,
            parts.second!)
    }

    private static func day(_ date: Date) -> String {
        String(timestamp(date).prefix(8))
    }

    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
