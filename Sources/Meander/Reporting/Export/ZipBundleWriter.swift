import Crypto
import Foundation
import ZIPFoundation

/// Writes a ZIP archive entry by entry, straight to disk, so a bundle larger than memory can be built. Every entry carries the same
/// fixed date (`ZipBundleWriter.fixedDate`, 2000-01-01 00:00 local DOS time) and fixed permissions, so the same entries in the same
/// order give byte-identical archives.
///
/// ZIPFoundation writes nothing else that depends on the time or the machine: no extra fields (but ZIP64 ones, which depend on sizes
/// only), "made by" Unix 3.21, and external attributes built from the type and the permissions we pass (`0o644`), never from a file's
/// own. Deflate is zlib's at its default level, fed in fixed 64 KiB chunks whichever way an entry is added.
///
/// After each `add` the file on disk is a complete archive. If an `add` throws for another reason than a bad or repeated path, the
/// archive is left damaged and the writer refuses any further entry: delete the file. Not `Sendable`: use it from one task at a time.
final class ZipBundleWriter {
    /// The modification date of every entry: DOS date and time fields of 2000-01-01 00:00. DOS times have no zone; ZIPFoundation
    /// maps them to and from `Date` in UTC, so this is 2000-01-01T00:00:00Z and reads back equal on any machine.
    static let fixedDate = Date(timeIntervalSince1970: 946_684_800)

    /// `rw-r--r--`, the permissions of every entry.
    static let permissions: UInt16 = 0o644

    /// The size of the chunks read, hashed and compressed.
    static let chunkSize = 64 * 1024

    /// Why an entry could not be added.
    enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The path is empty, absolute, has an empty, `.` or `..` component, a backslash or a control character.
        case invalidPath(String)
        /// An entry with this path was added before.
        case duplicatePath(String)
        /// The URL names no regular file.
        case notAFile(URL)
        /// The file's size changed while it was being added.
        case fileChanged(URL)
        /// ZIPFoundation asked for an entry's bytes out of order (0.9.20 never does), so the hash would be wrong.
        case readOutOfOrder
        /// `close()` was called.
        case closed
        /// An earlier `add` failed, which left the archive damaged.
        case damagedByEarlierError

        var description: String {
            switch self {
            case .invalidPath(let path): "invalid ZIP entry path '\(path)'"
            case .duplicatePath(let path): "ZIP entry '\(path)' was already added"
            case .notAFile(let url): "'\(url.path)' is not a regular file"
            case .fileChanged(let url): "'\(url.path)' changed while it was being added to a ZIP archive"
            case .readOutOfOrder: "ZIPFoundation read an entry out of order"
            case .closed: "the ZIP archive is closed"
            case .damagedByEarlierError: "the ZIP archive is damaged by an earlier error"
            }
        }
    }

    private var archive: Archive?
    private var isDamaged = false
    private var paths: Set<String> = []

    /// Creates an empty archive at `url`, replacing any file there.
    init(creating url: URL) throws {
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: url.path) {
            try fileManager.removeItem(at: url)
        }
        // Bound to a non-optional first: assigning straight to `archive` would pick ZIPFoundation's deprecated failable init.
        let created = try Archive(url: url, accessMode: .create)
        archive = created
    }

    /// Adds an entry from memory; returns its SHA-256 (lowercase hex) and size.
    @discardableResult
    func add(path: String, data: Data, compress: Bool = true) throws -> (sha256: String, size: Int) {
        try addEntry(path: path, size: data.count, compress: compress) { position, length in
            let start = data.startIndex + Int(position)
            return data.subdata(in: start..<start + length)
        }
    }

    /// Adds an entry by streaming `fileURL` in chunks (64 KiB), never holding the whole file; returns SHA-256 hex and size.
    @discardableResult
    func add(path: String, contentsOf fileURL: URL, compress: Bool = true) throws -> (sha256: String, size: Int) {
        let handle = try FileHandle(forReadingFrom: fileURL)
        defer { try? handle.close() }
        // The size of the file opened, not of whatever the path names by now.
        var status = stat()
        guard fstat(handle.fileDescriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { throw Failure.notAFile(fileURL) }
        let size = Int(status.st_size)

        let result = try addEntry(path: path, size: size, compress: compress) { _, length in
            var chunk = Data()
            while chunk.count < length {
                guard let more = try handle.read(upToCount: length - chunk.count), !more.isEmpty else {
                    throw Failure.fileChanged(fileURL)
                }
                chunk.append(more)
            }
            return chunk
        }
        // A file that grew would otherwise lose its tail silently.
        guard try handle.read(upToCount: 1)?.isEmpty ?? true else {
            isDamaged = true
            throw Failure.fileChanged(fileURL)
        }
        return result
    }

    /// Finishes the archive (idempotent).
    ///
    /// Every `add` already leaves a complete archive on disk; closing releases the file.
    func close() throws {
        archive = nil
    }

    /// Adds one file entry whose bytes `read(position, length)` hands out in order, hashing them on the way.
    private func addEntry(
        path: String, size: Int, compress: Bool, read: (_ position: Int64, _ length: Int) throws -> Data
    ) throws -> (sha256: String, size: Int) {
        guard let archive else { throw Failure.closed }
        guard !isDamaged else { throw Failure.damagedByEarlierError }
        try Self.validate(path)
        guard !paths.contains(path) else { throw Failure.duplicatePath(path) }

        var hasher = SHA256()
        var hashed: Int64 = 0
        do {
            try archive.addEntry(
                with: path, type: .file, uncompressedSize: Int64(size), modificationDate: Self.fixedDate,
                permissions: Self.permissions, compressionMethod: compress ? .deflate : .none, bufferSize: Self.chunkSize,
                progress: nil
            ) { position, length in
                // ZIPFoundation asks for consecutive chunks; hashing relies on it, so make sure.
                guard position == hashed else { throw Failure.readOutOfOrder }
                let chunk = try read(position, length)
                hasher.update(data: chunk)
                hashed += Int64(chunk.count)
                return chunk
            }
            guard hashed == Int64(size) else { throw Failure.readOutOfOrder }
        } catch {
            isDamaged = true
            throw error
        }
        paths.insert(path)
        return (Digest.hex(hasher.finalize()), size)
    }

    private static func validate(_ path: String) throws {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        let isValid =
            !path.isEmpty && !path.contains("\\") && path.utf8.count <= Int(UInt16.max)
            && !components.contains { $0.isEmpty || $0 == "." || $0 == ".." }
            && !path.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
        guard isValid else { throw Failure.invalidPath(path) }
    }
}
