import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Sends `MailMessage`s over SMTP (RFC 5321): STARTTLS or implicit TLS, AUTH PLAIN or LOGIN, every step under a
/// timeout. Passwords and message bodies are never logged nor put in errors.
///
/// A connection that delivered a message is kept for the next one (up to `SMTPConfiguration.poolSize` idle
/// connections, each for `idleTimeout` and `messagesPerConnection` messages), as mail relays prefer: the TLS handshake
/// and AUTH are paid once. A kept connection the server has closed meanwhile fails before any of the message is sent
/// (at `MAIL FROM`), and the message goes out on a new one; a failure after that is the caller's to retry.
struct SMTPClient: Sendable {
    let configuration: SMTPConfiguration
    let logger: Logger
    let eventLoopGroup: any EventLoopGroup
    private let tlsContext: NIOSSLContext?
    /// Connections kept for the next message (internal for tests).
    let pool = SMTPSessionPool()

    init(
        configuration: SMTPConfiguration, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws(SMTPError) {
        self.configuration = configuration
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        guard configuration.security != .plain else {
            tlsContext = nil
            return
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        do {
            if let file = configuration.trustRootsFile {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
            }
            tlsContext = try NIOSSLContext(configuration: tls)
        } catch {
            throw .tls("cannot set up TLS with the trust roots \(configuration.trustRootsFile ?? "of the system"): \(error)")
        }
    }

    /// Delivers the message to its one recipient. A retry of a message that failed with a transient error sends the
    /// same `Message-ID`.
    func send(_ message: MailMessage) async throws(SMTPError) {
        guard !message.messageID.contains(where: { $0.isNewline }) else { throw .invalidMessage("the Message-ID has a line break") }
        let rendered = message.rendered(boundary: Self.boundary(messageID: message.messageID))
        try await send(rendered: rendered, from: message.from.email, to: message.to.email, messageID: message.messageID)
    }

    /// Delivers an already rendered RFC 5322 message (CRLF line ends, before dot-stuffing) to `to`.
    func send(rendered: String, from: String, to: String, messageID: String) async throws(SMTPError) {
        guard SMTPConfiguration.isMailbox(from) else { throw .invalidMessage("the sender is not an address") }
        guard SMTPConfiguration.isMailbox(to) else { throw .invalidMessage("the recipient is not an address") }
        var logger = logger
        logger[metadataKey: "smtp.server"] = "\(configuration.host):\(configuration.port)"
        logger[metadataKey: "smtp.message_id"] = "\(messageID)"
        let started = ContinuousClock.now
        do {
            try await deliver(SMTPData.stuffed(rendered), from: from, to: to, logger: logger)
            logger.info("smtp: message accepted", metadata: ["duration": "\(ContinuousClock.now - started)"])
        } catch {
            let failure = SMTPError(error, step: "connect")
            logger.warning("smtp: message not sent", metadata: ["error": "\(failure)", "transient": "\(failure.isTransient)"])
            throw failure
        }
    }

    private func deliver(_ data: String, from: String, to: String, logger: Logger) async throws {
        while let kept = pool.take(idleFor: configuration.idleTimeout) {
            var session = kept.session
            do {
                try await envelope(&session, from: from, to: to)
            } catch {
                // Closed by the server while idle, most likely: nothing of the message went out.
                kept.session.close()
                logger.debug("smtp: a kept connection failed before the message; using another")
                continue
            }
            try await message(&session, data: data, uses: kept.uses + 1)
            return
        }
        let connection = try await connect(logger: logger)
        var session = SMTPSession(connection, timeout: configuration.commandTimeout, logger: logger)
        do {
            try await open(&session)
            try await envelope(&session, from: from, to: to)
        } catch {
            session.close()
            throw error
        }
        try await message(&session, data: data, uses: 1)
    }

    /// Sends the message's data; on success the connection is kept for the next message (or ended when the pool is
    /// full or it has carried enough), on failure closed.
    private func message(_ session: inout SMTPSession, data: String, uses: Int) async throws {
        do {
            session.write(data)
            _ = try await session.reply(step: "message", expect: [250])
        } catch {
            session.close()
            throw error
        }
        if uses < configuration.messagesPerConnection, pool.put(session, uses: uses, limit: configuration.poolSize) {
            return
        }
        // The message is accepted: a failed QUIT must not make the caller send it again.
        _ = try? await session.command("QUIT", step: "QUIT", expect: [221], timeout: min(5, configuration.commandTimeout))
        session.close()
    }

    /// Ends every kept connection (application shutdown).
    func shutdown() async {
        for kept in pool.drain() {
            var session = kept.session
            _ = try? await session.command("QUIT", step: "QUIT", expect: [221], timeout: min(5, configuration.commandTimeout))
            session.close()
        }
    }

    private func connect(logger: Logger) async throws -> SMTPSession.Connection {
        let (replies, continuation) = AsyncThrowingStream<SMTPReply, any Error>.makeStream()
        let implicitTLS = configuration.security == .implicitTLS ? tlsContext : nil
        let serverHostname = Self.serverNameIndication(configuration.host)
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(.interval(configuration.connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let implicitTLS {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: implicitTLS, serverHostname: serverHostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler(continuation: continuation))
                }
            }
        do {
            let channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
            logger.debug("smtp: connected", metadata: ["tls": "\(implicitTLS != nil)"])
            return SMTPSession.Connection(channel: channel, replies: replies.makeAsyncIterator())
        } catch {
            continuation.finish()
            throw SMTPError.connectFailed("\(configuration.host):\(configuration.port): \(error)")
        }
    }

    /// The greeting, EHLO, STARTTLS and AUTH of a new connection.
    private func open(_ session: inout SMTPSession) async throws {
        _ = try await session.reply(step: "greeting", expect: [220])
        var capabilities = try await session.ehlo()
        var encrypted = configuration.security == .implicitTLS
        if configuration.security == .startTLSRequired || configuration.security == .startTLSOptional {
            if capabilities.startTLS, let tlsContext {
                _ = try await session.command("STARTTLS", step: "STARTTLS", expect: [220])
                try await session.startTLS(context: tlsContext, serverHostname: Self.serverNameIndication(configuration.host))
                // The handshake runs under the timeout of this EHLO's reply.
                capabilities = try await session.ehlo()
                encrypted = true
            } else if configuration.security == .startTLSRequired {
                throw SMTPError.startTLSUnavailable
            }
        }
        if let username = configuration.username, let password = configuration.password {
            guard encrypted || configuration.security == .plain else { throw SMTPError.cleartextAuthRefused }
            try await session.authenticate(username: username, password: password, offered: capabilities.authMechanisms)
        }
    }

    /// One message's envelope, up to the server's go-ahead for its data.
    private func envelope(_ session: inout SMTPSession, from: String, to: String) async throws {
        _ = try await session.command("MAIL FROM:<\(from)>", step: "MAIL FROM", expect: [250])
        _ = try await session.command("RCPT TO:<\(to)>", step: "RCPT TO", expect: [250, 251])
        _ = try await session.command("DATA", step: "DATA", expect: [354])
    }

    /// The MIME boundary: `=_` never occurs in base64 or in the parts' headers, so it needs no randomness. Taken from
    /// the `Message-ID`, a retry sends the same bytes.
    static func boundary(messageID: String) -> String {
        "=_meander_" + SHA256.hash(data: Data(messageID.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    /// The name sent for SNI and checked against the certificate; nil for an IP address, which the certificate is
    /// then checked against instead.
    static func serverNameIndication(_ host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }
}

/// Why a message was not sent, and whether trying again later may help (`isTransient`). Never holds a password or a
/// message body.
enum SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server could not be reached.
    case connectFailed(String)
    /// The connection closed or broke during `step`.
    case connectionLost(step: String)
    /// No reply within the timeout during `step`.
    case timedOut(step: String)
    /// The server answered `step` with an unexpected code: 4xx is transient, 5xx permanent.
    case rejected(step: String, code: Int, message: String)
    /// `starttls=required`, and the server offers no STARTTLS: nothing was sent.
    case startTLSUnavailable
    /// Credentials are configured but the connection is not encrypted, and `starttls=never` does not allow that.
    case cleartextAuthRefused
    /// The server offers neither AUTH PLAIN nor AUTH LOGIN.
    case authUnsupported(offered: [String])
    /// TLS could not be set up: a certificate that does not verify, an unreadable trust root file.
    case tls(String)
    /// The server's replies do not follow the protocol.
    case protocolViolation(String)
    /// The message cannot be sent as it is (an address that is not one).
    case invalidMessage(String)

    /// Whether the same message may succeed later: 4xx replies and lost, broken or slow connections.
    var isTransient: Bool {
        switch self {
        case .connectFailed, .connectionLost, .timedOut, .protocolViolation: true
        case .rejected(_, let code, _): (400..<500).contains(code)
        case .startTLSUnavailable, .cleartextAuthRefused, .authUnsupported, .tls, .invalidMessage: false
        }
    }

    var description: String {
        switch self {
        case .connectFailed(let detail): "SMTP: cannot connect to \(detail)"
        case .connectionLost(let step): "SMTP: the connection was lost during \(step)"
        case .timedOut(let step): "SMTP: no reply in time during \(step)"
        case .rejected(let step, let code, let message): "SMTP: \(step) was refused: \(code) \(message)"
        case .startTLSUnavailable: "SMTP: the server offers no STARTTLS, and starttls=required"
        case .cleartextAuthRefused: "SMTP: refusing to send credentials over an unencrypted connection (starttls=never allows it)"
        case .authUnsupported(let offered):
            "SMTP: the server offers neither AUTH PLAIN nor LOGIN (offered: \(offered.joined(separator: " ")))"
        case .tls(let detail): "SMTP: TLS failed: \(detail)"
        case .protocolViolation(let detail): "SMTP: the server broke the protocol: \(detail)"
        case .invalidMessage(let detail): "SMTP: the message cannot be sent: \(detail)"
        }
    }

    /// Any error met while talking to the server, as an `SMTPError`.
    init(_ error: any Error, step: String) {
        switch error {
        case let error as SMTPError:
            self = error
        case NIOSSLError.handshakeFailed(let underlying):
            self = .tls("handshake failed: \(underlying)")
        case is NIOSSLExtraError, is BoringSSLError:
            self = .tls("\(error)")
        default:
            // Unclean TLS shutdowns, resets, writes on a closed channel: the connection is gone.
            self = .connectionLost(step: step)
        }
    }
}

/// One SMTP reply: its code and its lines' text (without the code and separator).
struct SMTPReply: Sendable, Equatable {
    var code: Int
    var lines: [String]

    var text: String { lines.joined(separator: " ") }
}

/// The extensions an EHLO reply announces (RFC 5321 §4.1.1.1): keyword → parameters.
struct SMTPCapabilities: Sendable, Equatable {
    var keywords: [String: [String]] = [:]

    init(ehlo reply: SMTPReply) {
        // The first line greets; each further one is `KEYWORD params…`.
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map(String.init)
            guard let keyword = words.first?.uppercased() else { continue }
            // Some servers still announce `AUTH=LOGIN PLAIN` beside `AUTH LOGIN PLAIN`.
            if keyword.hasPrefix("AUTH=") {
                keywords["AUTH", default: []] += [String(keyword.dropFirst(5))] + words.dropFirst()
            } else {
                keywords[keyword, default: []] += words.dropFirst()
            }
        }
    }

    var startTLS: Bool { keywords["STARTTLS"] != nil }
    var authMechanisms: Set<String> { Set((keywords["AUTH"] ?? []).map { $0.uppercased() }) }
}

/// Splits the server's bytes into replies, joining multi-line ones (`250-…` lines, then `250 …`).
struct SMTPReplyParser {
    /// RFC 5321 allows 512 octets a reply line; some servers send more. Beyond this a server is not speaking SMTP.
    static let maxLineLength = 4096
    static let maxLines = 256

    private var pending: [UInt8] = []
    private var lines: [String] = []
    private var code: Int?

    /// Whether bytes of an unfinished reply are waiting.
    var hasPartialInput: Bool { !pending.isEmpty || !lines.isEmpty }

    /// The replies completed by these bytes.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws(SMTPError) -> [SMTPReply] {
        var replies: [SMTPReply] = []
        for byte in bytes {
            guard byte == UInt8(ascii: "\n") else {
                pending.append(byte)
                guard pending.count <= Self.maxLineLength else {
                    throw .protocolViolation("a reply line longer than \(Self.maxLineLength) bytes")
                }
                continue
            }
            if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
            let line = String(decoding: pending, as: UTF8.self)
            pending.removeAll(keepingCapacity: true)
            if let reply = try self.line(line) { replies.append(reply) }
        }
        return replies
    }

    /// Takes one line (without its line end); returns the reply it completes, if any.
    mutating func line(_ line: String) throws(SMTPError) -> SMTPReply? {
        let characters = Array(line.utf8)
        guard characters.count >= 3, characters[0...2].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let lineCode = Int(String(decoding: characters[0...2], as: UTF8.self)), (100...599).contains(lineCode)
        else {
            throw .protocolViolation("a reply line that does not start with a reply code")
        }
        let separator = characters.count > 3 ? characters[3] : UInt8(ascii: " ")
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw .protocolViolation("a reply code followed by neither a space nor a hyphen")
        }
        if let code, code != lineCode {
            throw .protocolViolation("a multi-line reply whose lines have different codes (\(code), \(lineCode))")
        }
        code = lineCode
        lines.append(characters.count > 4 ? String(decoding: characters[4...], as: UTF8.self) : "")
        guard lines.count <= Self.maxLines else { throw .protocolViolation("a reply of more than \(Self.maxLines) lines") }
        guard separator == UInt8(ascii: " ") else { return nil }
        defer {
            lines = []
            code = nil
        }
        return SMTPReply(code: lineCode, lines: lines)
    }
}

/// Turns the connection's bytes into `SMTPReply`s on a stream; the stream ends with the connection or its first error.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var parser = SMTPReplyParser()
    private let continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation
    /// How many replies went onto the stream; compared with those read before TLS starts.
    private(set) var repliesSent = 0
    var hasPartialInput: Bool { parser.hasPartialInput }

    init(continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            for reply in try parser.feed(buffer.readableBytesView) {
                repliesSent += 1
                continuation.yield(reply)
            }
        } catch {
            continuation.finish(throwing: error)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish(throwing: SMTPError.connectionLost(step: ""))
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension SMTPReplyHandler: Sendable {}

/// The client's side of one connection: commands, replies under timeouts, and the steps that take more than one.
struct SMTPSession {
    struct Connection {
        var channel: any Channel
        var replies: AsyncThrowingStream<SMTPReply, any Error>.AsyncIterator
    }

    private var connection: Connection
    private let timeout: TimeInterval
    private let logger: Logger
    private var repliesRead = 0

    init(_ connection: Connection, timeout: TimeInterval, logger: Logger) {
        self.connection = connection
        self.timeout = timeout
        self.logger = logger
    }

    func write(_ text: String) {
        connection.channel.writeAndFlush(ByteBuffer(string: text), promise: nil)
    }

    func close() {
        connection.channel.close(promise: nil)
    }

    /// The next reply, within the timeout (which closes the connection); any other code than `expect` throws.
    /// `secrets` are blanked out of the server's text should it echo them.
    mutating func reply(
        step: String, expect: Set<Int>, timeout: TimeInterval? = nil, secrets: [String] = []
    ) async throws -> SMTPReply {
        let channel = connection.channel
        let timedOut = NIOLockedValueBox(false)
        let timer = channel.eventLoop.scheduleTask(in: .interval(timeout ?? self.timeout)) {
            timedOut.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        let reply: SMTPReply
        do {
            guard let next = try await connection.replies.next() else { throw SMTPError.connectionLost(step: step) }
            reply = next
        } catch {
            if timedOut.withLockedValue({ $0 }) { throw SMTPError.timedOut(step: step) }
            if case SMTPError.connectionLost = error { throw SMTPError.connectionLost(step: step) }
            throw SMTPError(error, step: step)
        }
        repliesRead += 1
        logger.debug("smtp: reply", metadata: ["step": "\(step)", "code": "\(reply.code)"])
        guard expect.contains(reply.code) else {
            var text = String(reply.text.prefix(300))
            for secret in secrets where !secret.isEmpty { text = text.replacingOccurrences(of: secret, with: "***") }
            throw SMTPError.rejected(step: step, code: reply.code, message: text)
        }
        return reply
    }

    /// Sends one command line and reads its reply. `step` is what logs and errors name, never the arguments.
    mutating func command(
        _ line: String, step: String, expect: Set<Int>, timeout: TimeInterval? = nil, secrets: [String] = []
    ) async throws -> SMTPReply {
        write(line + "\r\n")
        return try await reply(step: step, expect: expect, timeout: timeout, secrets: secrets)
    }

    mutating func ehlo() async throws -> SMTPCapabilities {
        let reply = try await command("EHLO \(clientName())", step: "EHLO", expect: [250])
        return SMTPCapabilities(ehlo: reply)
    }

    /// The address literal of our end of the connection (RFC 5321 §4.1.4), as EHLO's argument.
    private func clientName() -> String {
        switch connection.channel.localAddress {
        case .v4(let address)?: "[\(address.host)]"
        case .v6(let address)?: "[IPv6:\(address.host)]"
        default: "localhost"
        }
    }

    /// Puts TLS under the reply handler, after STARTTLS's 220. Anything the server sent after that 220 came in plain
    /// text and could have been injected by someone in between: it ends the conversation.
    func startTLS(context: NIOSSLContext, serverHostname: String?) async throws {
        let channel = connection.channel
        let repliesRead = repliesRead
        try await channel.eventLoop.submit {
            let replies = try channel.pipeline.syncOperations.handler(type: SMTPReplyHandler.self)
            guard replies.repliesSent == repliesRead, !replies.hasPartialInput else {
                throw SMTPError.protocolViolation("the server sent more after STARTTLS's 220")
            }
            try channel.pipeline.syncOperations.addHandler(
                NIOSSLClientHandler(context: context, serverHostname: serverHostname), position: .first)
        }.get()
        logger.debug("smtp: TLS started")
    }

    /// AUTH PLAIN, or AUTH LOGIN where only that is offered (RFC 4954).
    mutating func authenticate(username: String, password: String, offered: Set<String>) async throws {
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        if offered.contains("PLAIN") {
            let token = base64("\0\(username)\0\(password)")
            _ = try await command(
                "AUTH PLAIN \(token)", step: "AUTH PLAIN", expect: [235], secrets: [token, password])
        } else if offered.contains("LOGIN") {
            let secrets = [base64(username), base64(password), password]
            _ = try await command("AUTH LOGIN", step: "AUTH LOGIN", expect: [334])
            _ = try await command(base64(username), step: "AUTH LOGIN", expect: [334], secrets: secrets)
            _ = try await command(base64(password), step: "AUTH LOGIN", expect: [235], secrets: secrets)
        } else {
            throw SMTPError.authUnsupported(offered: offered.sorted())
        }
        logger.debug("smtp: authenticated")
    }
}

extension TimeAmount {
    /// A `TimeInterval` in seconds as a `TimeAmount`.
    static func interval(_ seconds: TimeInterval) -> TimeAmount {
        .nanoseconds(Int64(seconds * 1_000_000_000))
    }
}

/// Connections that delivered a message and wait for the next, newest last. Each is used by one sender at a time:
/// `take` hands it out and removes it.
final class SMTPSessionPool: @unchecked Sendable {
    struct Kept {
        var session: SMTPSession
        var uses: Int
        var since: ContinuousClock.Instant
    }

    private let lock = NIOLock()
    private var idle: [Kept] = []

    /// The newest kept connection idle for less than `limit` seconds; older ones are closed.
    func take(idleFor limit: TimeInterval) -> Kept? {
        let now = ContinuousClock.now
        let (fresh, stale) = lock.withLock { () -> (Kept?, [Kept]) in
            var stale: [Kept] = []
            while let last = idle.popLast() {
                if now - last.since < .milliseconds(Int(limit * 1000)) { return (last, stale) }
                stale.append(last)
            }
            return (nil, stale)
        }
        for kept in stale { kept.session.close() }
        return fresh
    }

    /// Keeps a connection unless `limit` are kept already; whether it was kept.
    func put(_ session: SMTPSession, uses: Int, limit: Int) -> Bool {
        lock.withLock {
            guard idle.count < limit else { return false }
            idle.append(Kept(session: session, uses: uses, since: .now))
            return true
        }
    }

    func drain() -> [Kept] {
        lock.withLock {
            defer { idle = [] }
            return idle
        }
    }
}
