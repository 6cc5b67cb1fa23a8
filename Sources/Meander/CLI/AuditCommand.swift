import Fluent
import Vapor

/// `meander audit <subcommand>`: tools for the tamper-evident audit log.
struct AuditCommand: OperatorCommandGroup {
    var summary: String { "Tools for the tamper-evident audit log." }

    var help: String {
        """
        Tools for the tamper-evident audit log. `meander audit verify` prints "valid: N entries, head <hash>" and \
        exits 0, or "INVALID at sequence S: <problem>" and exits 1.
        """
    }

    var subcommands: [(name: String, command: any OperatorCommand)] {
        [("verify", AuditVerifyCommand())]
    }
}

/// `meander audit verify`: walks the chain and names the first bad sequence number.
struct AuditVerifyCommand: OperatorCommand {
    struct Signature: CommandSignature {}

    /// Thrown for a broken chain, so that the process exits non-zero (the command has printed the bad entry).
    struct ChainInvalid: ReportedError, CustomStringConvertible {
        let sequence: Int64
        let problem: String

        var description: String { "The audit chain is invalid at sequence \(sequence): \(problem)" }
    }

    var summary: String { "Recompute the audit chain: the entry count and head hash, or the first bad entry (exit 1)." }

    var help: String {
        """
        Verify the audit log's hash chain: gapless sequence, every previous_hash linking to the entry before, every \
        hash recomputed, and the checkpoint of the newest entry. Exits 0 when valid, 1 at the first bad entry.
        """
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let progress = ProgressReporter()
        let result = try await AuditChain.verify(on: context.application.db) { done, total in
            progress.update("entries verified", done: Int(done), total: Int(total))
        }
        if let sequence = result.firstBadSequence {
            let problem = result.problem ?? "unknown problem"
            context.console.error("INVALID at sequence \(sequence): \(problem)")
            throw ChainInvalid(sequence: sequence, problem: problem)
        }
        context.console.print("valid: \(result.entryCount) entries, head \(result.headHash ?? AuditLogEntry.genesisHash)")
    }
}
