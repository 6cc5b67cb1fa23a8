import Fluent
import Foundation
import Vapor

/// `meander keys <subcommand>`: the master and data keys behind encryption at rest.
struct KeysCommand: OperatorCommandGroup {
    var summary: String { "The master and data keys behind encryption at rest." }

    var help: String {
        """
        Encryption keys at rest. To rotate the master key: on every node set the new key as MEANDER_MASTER_KEY and \
        the old one in MEANDER_MASTER_KEY_PREVIOUS, run `meander keys rotate`, check with `meander keys status` that \
        the old key wraps no data key any more, then remove it from MEANDER_MASTER_KEY_PREVIOUS.
        """
    }

    var subcommands: [(name: String, command: any OperatorCommand)] {
        [
            ("status", KeysStatusCommand()),
            ("rotate", KeysRotateCommand()),
            ("rotate-data-key", KeysRotateDataKeyCommand()),
        ]
    }
}

/// `meander keys rotate`: re-wraps every data key under the current master key.
struct KeysRotateCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Option(name: "batch-size", help: "Data keys re-wrapped per batch (default 100).")
        var batchSize: Int?
    }

    /// Thrown when some data keys could not be re-wrapped, so that the process exits non-zero (the command has
    /// printed which).
    struct RotationIncomplete: ReportedError, CustomStringConvertible {
        let summary: FieldCipher.RewrapSummary

        var description: String {
            let unknown = summary.unknownMasterKeys.values.reduce(0, +)
            return "Master key rotation is incomplete: \(unknown) data key(s) under an unknown master key, \(summary.failed) failed."
        }
    }

    var summary: String { "Re-wrap every data key under the current MEANDER_MASTER_KEY (online, re-runnable)." }

    var help: String {
        """
        Re-wrap every data key that is under a key in MEANDER_MASTER_KEY_PREVIOUS with MEANDER_MASTER_KEY, in \
        batches, with conditional updates: safe while the app serves and safe to re-run. Exits 1 if a data key is \
        under a master key that is configured nowhere.
        """
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let batchSize = signature.batchSize ?? 100
        guard batchSize > 0 else { throw AppError(.invalidParameter, "--batch-size must be a positive number") }
        try await Self.rotate(
            cipher: context.application.meander.cipher, on: context.application.db,
            batchSize: batchSize, console: context.console)
    }

    /// Runs the rotation and reports it on `console`: progress per batch, then a summary.
    @discardableResult
    static func rotate(cipher: FieldCipher, on db: any Database, batchSize: Int, console: any Console) async throws
        -> FieldCipher.RewrapSummary
    {
        console.print("current master key: \(cipher.currentMasterKeyID)")
        let summary = try await cipher.rewrapDataKeys(on: db, batchSize: batchSize) { done, total in
            if done > 0 { console.print("re-wrapped \(done)/\(total) data keys") }
        }
        console.print(
            "summary: \(summary.total) data keys; \(summary.rewrapped) re-wrapped now, \(summary.alreadyCurrent) already "
                + "under the current master key, \(summary.rewrappedConcurrently) re-wrapped concurrently, "
                + "\(summary.failed) failed")
        for (masterKeyID, count) in summary.unknownMasterKeys.sorted(by: { $0.key < $1.key }) {
            console.error(
                "ERROR: \(count) data key(s) are wrapped under master key \(masterKeyID), which is neither "
                    + "MEANDER_MASTER_KEY nor in MEANDER_MASTER_KEY_PREVIOUS; add that key to "
                    + "MEANDER_MASTER_KEY_PREVIOUS and run `meander keys rotate` again.")
        }
        if summary.failed > 0 {
            console.error(
                "ERROR: \(summary.failed) data key(s) did not authenticate under the master key they name; "
                    + "the rows are damaged or were altered.")
        }
        guard summary.isComplete else { throw RotationIncomplete(summary: summary) }
        console.print("done: every data key is under master key \(summary.currentMasterKeyID).")
        return summary
    }
}

/// `meander keys status`: data keys per master key, and which previous master keys can be retired.
struct KeysStatusCommand: OperatorCommand {
    struct Signature: CommandSignature {}

    var summary: String { "Data keys per master key, and which previous master keys can be retired." }

    var help: String {
        """
        Count the data keys per master key id (a fingerprint, never the key), marking the current one, and say \
        which keys in MEANDER_MASTER_KEY_PREVIOUS no data key uses any more.
        """
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let status = try await context.application.meander.cipher.keyStatus(on: context.application.db)
        for line in Self.lines(for: status) {
            context.console.print(line)
        }
    }

    static func lines(for status: FieldCipher.KeyStatus) -> [String] {
        var lines = status.uses.map { use in
            let note: String =
                switch use.role {
                case .current: ""
                case .previous where use.dataKeys == 0: " (unused: can be removed from MEANDER_MASTER_KEY_PREVIOUS)"
                case .previous: " (still in use: run `meander keys rotate`)"
                case .unknown: " (NOT CONFIGURED: these data keys cannot be opened)"
                }
            return "master key \(use.masterKeyID) \(use.role.rawValue): \(use.dataKeys) data keys\(note)"
        }
        if status.unreadable > 0 {
            lines.append(
                "WARNING: \(status.unreadable) data key(s) are under a master key that is not configured; add it to "
                    + "MEANDER_MASTER_KEY_PREVIOUS.")
        }
        if status.awaitingRewrap > 0 {
            lines.append("\(status.awaitingRewrap) data key(s) still need `meander keys rotate`.")
        } else if status.unreadable == 0 {
            lines.append("all \(status.totalDataKeys) data keys are under the current master key.")
        }
        if !status.retirablePreviousIDs.isEmpty {
            lines.append(
                "retirable previous master keys: \(status.retirablePreviousIDs.joined(separator: ", ")) (no data key uses them)")
        }
        return lines
    }
}

/// `meander keys rotate-data-key <organization-id>`: new writes of one organisation use a fresh data key.
struct KeysRotateDataKeyCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Argument(name: "organization-id", help: "The organisation's id (UUID).")
        var organizationID: String
    }

    var summary: String { "Give one organisation a new data key version for new writes." }

    var help: String {
        "Add a new data key version for one organisation; values sealed under older versions keep opening."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let organizationID = UUID(uuidString: signature.organizationID),
            try await Organization.find(organizationID, on: context.application.db) != nil
        else {
            throw AppError(.notFound, "No organisation with id \(signature.organizationID).")
        }
        let version = try await context.application.meander.cipher.rotateDataKey(
            organizationID: organizationID, on: context.application.db,
            now: context.application.meander.dependencies.now)
        context.console.print("organisation \(organizationID.uuidString.lowercased()) now writes with data key version \(version)")
    }
}
