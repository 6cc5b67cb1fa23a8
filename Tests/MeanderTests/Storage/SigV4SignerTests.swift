import Crypto
import Foundation
import Testing

@testable import Meander

/// The tests of evidence-file storage, grouped so that `swift test --filter Storage` selects them all.
enum StorageTests {}

extension StorageTests {
    /// AWS's published Signature V4 examples. The S3 ones are from the S3 API reference ("Signature calculations
    /// for the Authorization header: transferring payload in a single chunk" and "Authenticating requests: using
    /// query parameters"), `get-vanilla` from the SigV4 test suite; each expected value was also recomputed with
    /// botocore.
    @Suite("AWS Signature V4")
    struct SigV4SignerTests {
        static let s3Example = SigV4Signer(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region: "us-east-1")
        static let may24 = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
        static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

        @Test("S3 GetObject example: canonical request, string to sign and signature")
        func getObject() {
            // given
            let request = SigV4Signer.Request(
                method: "GET", path: "/test.txt",
                headers: [
                    ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                    ("x-amz-content-sha256", Self.emptyHash), ("x-amz-date", "20130524T000000Z"),
                ],
                payloadHash: Self.emptyHash)

            // when
            let canonical = Self.s3Example.canonicalRequest(request)
            let stringToSign = Self.s3Example.stringToSign(canonicalRequest: canonical, at: Self.may24)
            let headers = Self.s3Example.signedHeaders(for: request, at: Self.may24)

            // then
            #expect(
                canonical == """
                    GET
                    /test.txt

                    host:examplebucket.s3.amazonaws.com
                    range:bytes=0-9
                    x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                    x-amz-date:20130524T000000Z

                    host;range;x-amz-content-sha256;x-amz-date
                    e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                    """)
            #expect(
                stringToSign == """
                    AWS4-HMAC-SHA256
                    20130524T000000Z
                    20130524/us-east-1/s3/aws4_request
                    7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
                    """)
            #expect(
                headers.last?.1
                    == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                    + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                    + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
            #expect(headers.last?.0 == "Authorization")
        }

        @Test("S3 PutObject example: a key needing encoding, a Date header and a body hash")
        func putObject() {
            // given
            let body = Data("Welcome to Amazon S3.".utf8)
            let payloadHash = Digest.sha256Hex(body)
            let request = SigV4Signer.Request(
                method: "PUT", path: "/" + SigV4Signer.encodePath("test$file.text"),
                headers: [
                    ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("Host", "examplebucket.s3.amazonaws.com"),
                    ("x-amz-content-sha256", payloadHash), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ],
                payloadHash: payloadHash)

            // when: x-amz-date is added by the signer
            let headers = Self.s3Example.signedHeaders(for: request, at: Self.may24)

            // then
            #expect(payloadHash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
            #expect(request.path == "/test%24file.text")
            #expect(headers.contains { $0 == ("x-amz-date", "20130524T000000Z") })
            #expect(
                headers.last?.1
                    == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                    + "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
                    + "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
        }

        @Test("S3 ListObjects example: query parameters are encoded and sorted")
        func listObjects() {
            // given: given out of order, on purpose
            let request = SigV4Signer.Request(
                method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")],
                headers: [("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-content-sha256", Self.emptyHash)],
                payloadHash: Self.emptyHash)

            // when
            let headers = Self.s3Example.signedHeaders(for: request, at: Self.may24)

            // then
            #expect(Self.s3Example.canonicalRequest(request).split(separator: "\n").dropFirst(2).first == "max-keys=2&prefix=J")
            #expect(headers.last?.1.hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") == true)
        }

        @Test("SigV4 test suite: get-vanilla (another service, mixed-case header names)")
        func getVanilla() {
            // given
            let signer = SigV4Signer(
                accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                region: "us-east-1", service: "service")
            let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
            let request = SigV4Signer.Request(
                method: "GET", path: "/", headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
                payloadHash: Self.emptyHash)

            // when
            let canonical = signer.canonicalRequest(request)
            let headers = signer.signedHeaders(for: request, at: date)

            // then
            #expect(Digest.sha256Hex(Data(canonical.utf8)) == "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63")
            #expect(headers.count == 3, "the given X-Amz-Date is not added twice")
            #expect(
                headers.last?.1
                    == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    + "SignedHeaders=host;x-amz-date, "
                    + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        }

        @Test("signing key derivation example (IAM, 2012-02-15)")
        func signingKey() {
            // given
            let signer = SigV4Signer(
                accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                region: "us-east-1", service: "iam")

            // when
            let key = signer.signingKey(at: Date(timeIntervalSince1970: 1_329_264_000))  // 2012-02-15

            // then
            #expect(
                key.withUnsafeBytes { Digest.hex($0) }
                    == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
        }

        @Test("S3 presigned URL example: query-string authentication")
        func presignedURL() {
            // given
            let request = SigV4Signer.Request(
                method: "GET", path: "/test.txt", headers: [("host", "examplebucket.s3.amazonaws.com")],
                payloadHash: SigV4Signer.unsignedPayload)

            // when
            let query = Self.s3Example.presignedQuery(for: request, at: Self.may24, expires: 86_400)

            // then
            #expect(
                SigV4Signer.canonicalQueryString(query)
                    == "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                    + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                    + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
                    + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
                    + "&X-Amz-SignedHeaders=host")
            #expect(query.last?.0 == "X-Amz-Signature")
        }

        @Test(
            "URI encoding keeps only unreserved characters",
            arguments: [
                ("abc-XYZ_0.9~", "abc-XYZ_0.9~"),
                ("a b", "a%20b"),
                ("a/b", "a%2Fb"),
                ("a+b=c&d", "a%2Bb%3Dc%26d"),
                ("blåbær", "bl%C3%A5b%C3%A6r"),
                ("attachment; filename=\"x.pdf\"", "attachment%3B%20filename%3D%22x.pdf%22"),
            ])
        func encoding(raw: String, encoded: String) {
            #expect(SigV4Signer.encode(raw) == encoded)
        }

        @Test("paths keep their slashes; header values are trimmed and repeated names joined")
        func pathsAndHeaders() {
            // when
            let path = SigV4Signer.encodePath("org/a b/æ")
            let headers = SigV4Signer.canonicalHeaders([("X-Meta", "  a   b  "), ("host", "h"), ("x-meta", "c")])

            // then
            #expect(path == "org/a%20b/%C3%A6")
            #expect(headers.map(\.name) == ["host", "x-meta"])
            #expect(headers.map(\.value) == ["h", "a b,c"])
        }
    }
}
