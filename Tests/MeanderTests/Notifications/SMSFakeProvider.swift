import Foundation
import NIOConcurrencyHelpers
import NIOSSL
import Vapor

@testable import Meander

/// An SMS provider on loopback (a Vapor server on a free port) speaking `HTTPSMSProvider`'s protocol.
///
/// It checks the `Authorization` header and the body's shape (`{"to", "from", "text"}`, strings only, `to` in E.164)
/// and records what it accepts. Numbers ending in these digits answer otherwise:
/// `0429` → 429 with `Retry-After: 7`; `0503` → 503 with `Retry-After` as a date 30 s ahead; `0500` → 500 with no
/// body; `0400` → 400 `{"error":"invalid_number"}`; `0422` → 422 with an error that repeats the number and the text;
/// `0200` → 200 without an id; `0408` → a 200 after 3 s.
final class SMSFakeProvider: Sendable {
    struct Received: Sendable, Equatable {
        var to: String
        var from: String
        var text: String
    }

    let app: Application
    let port: Int
    let scheme: String
    private let accepted: NIOLockedValueBox<[Received]>
    private let refusedAuthorizations: NIOLockedValueBox<Int>

    /// Every message accepted, in order.
    var received: [Received] { accepted.withLockedValue { $0 } }
    /// Requests refused for a wrong or missing `Authorization`.
    var unauthorized: Int { refusedAuthorizations.withLockedValue { $0 } }

    /// `http://user:password@127.0.0.1:PORT/v1/messages` (`https` with TLS), or without credentials.
    func url(user: String? = nil, password: String? = nil) -> String {
        let credentials = user.map { "\($0):\(password ?? "")@" } ?? ""
        return "\(scheme)://\(credentials)127.0.0.1:\(port)/v1/messages"
    }

    /// Starts a provider that accepts exactly `authorization` (`Basic …` or `Bearer …`); over TLS with the PEM files
    /// `tls` names.
    static func start(authorization: String, tls: (certificate: String, key: String)? = nil) async throws -> SMSFakeProvider {
        let app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        if let tls {
            app.http.server.configuration.tlsConfiguration = .makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.key, format: .pem)))
        }
        let accepted = NIOLockedValueBox<[Received]>([])
        let refused = NIOLockedValueBox(0)
        app.post("v1", "messages") { request async throws -> Response in
            guard request.headers.first(name: .authorization) == authorization else {
                refused.withLockedValue { $0 += 1 }
                return json(.unauthorized, #"{"error":"unauthorized"}"#)
            }
            guard request.headers.contentType?.type == "application", request.headers.contentType?.subType == "json" else {
                return json(.unsupportedMediaType, #"{"error":"unsupported_media_type"}"#)
            }
            guard let data = request.body.data.map({ Data($0.readableBytesView) }),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                Set(object.keys) == ["to", "from", "text"],
                let to = object["to"] as? String, let from = object["from"] as? String, let text = object["text"] as? String,
                !from.isEmpty, !text.isEmpty
            else {
                return json(.badRequest, #"{"error":"bad_request"}"#)
            }
            guard to.range(of: #"^\+[1-9][0-9]{7,14}$"#, options: .regularExpression) != nil else {
                return json(.badRequest, #"{"error":"invalid_number"}"#)
            }
            switch String(to.suffix(4)) {
            case "0429":
                let response = json(.tooManyRequests, #"{"error":"rate_limited"}"#)
                response.headers.replaceOrAdd(name: "Retry-After", value: "7")
                return response
            case "0503":
                let response = json(.serviceUnavailable, #"{"error":"maintenance"}"#)
                let formatter = DateFormatter()
                formatter.locale = Locale(identifier: "en_US_POSIX")
                formatter.timeZone = TimeZone(identifier: "GMT")
                formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
                response.headers.replaceOrAdd(name: "Retry-After", value: formatter.string(from: Date().addingTimeInterval(30)))
                return response
            case "0500":
                return Response(status: .internalServerError)
            case "0400":
                return json(.badRequest, #"{"error":"invalid_number"}"#)
            case "0422":
                let echo = try JSONSerialization.data(withJSONObject: ["error": "cannot deliver to \(to): \(text)"])
                return Response(status: .unprocessableEntity, body: .init(data: echo))
            case "0200":
                return json(.ok, #"{"status":"queued"}"#)
            case "0408":
                try await Task.sleep(for: .seconds(3))
                return json(.ok, #"{"id":"late"}"#)
            default:
                let count = accepted.withLockedValue { received in
                    received.append(Received(to: to, from: from, text: text))
                    return received.count
                }
                return json(.accepted, #"{"id":"msg-\#(count)"}"#)
            }
        }
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        guard let port = app.http.server.shared.localAddress?.port else {
            try await app.asyncShutdown()
            throw Abort(.internalServerError, reason: "the fake SMS provider has no port")
        }
        return SMSFakeProvider(app: app, port: port, scheme: tls == nil ? "http" : "https", accepted: accepted, refused: refused)
    }

    private init(
        app: Application, port: Int, scheme: String, accepted: NIOLockedValueBox<[Received]>, refused: NIOLockedValueBox<Int>
    ) {
        self.app = app
        self.port = port
        self.scheme = scheme
        self.accepted = accepted
        self.refusedAuthorizations = refused
    }

    func shutdown() async {
        await app.server.shutdown()
        try? await app.asyncShutdown()
    }

    /// Runs `body` with a provider started for it, and always stops the provider.
    static func with<T>(
        authorization: String, tls: (certificate: String, key: String)? = nil, _ body: (SMSFakeProvider) async throws -> T
    ) async throws -> T {
        let fake = try await start(authorization: authorization, tls: tls)
        do {
            let result = try await body(fake)
            await fake.shutdown()
            return result
        } catch {
            await fake.shutdown()
            throw error
        }
    }
}

private func json(_ status: HTTPResponseStatus, _ body: String) -> Response {
    var headers = HTTPHeaders()
    headers.contentType = .json
    return Response(status: status, headers: headers, body: .init(string: body))
}
