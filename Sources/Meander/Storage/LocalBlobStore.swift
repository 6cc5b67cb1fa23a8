import Foundation
import Vapor

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Files in a directory on this machine (`MEANDER_STORAGE=local`): one file per key, at `directory/key`.
///
/// Directories are created with mode 0700 and files with 0600. A file is written to a hidden temporary file in
/// the same directory, flushed to disk and renamed over the key's name, so a reader sees the old bytes or the new
/// ones, never a partial file. File I/O runs on NIO's thread pool, off the cooperative threads.
struct LocalBlobStore: BlobStore {
    /// An absolute path.
    let directory: String

    var name: String { "local" }

    init(directory: String) {
        self.directory = directory
    }

    func put(_ key: String, _ bytes: Data, contentType: String) async throws {
        let path = try path(for: key)
        try await onThreadPool {
            let folder = (path as NSString).deletingLastPathComponent
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw BlobStoreError.unavailable("cannot create the directory for '\(key)': \(Self.reason(error))")
            }
            let temporary = folder + "/.tmp-" + UUID().uuidString.lowercased()
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw Self.posixError("cannot create a file for '\(key)'") }
            var written = 0
            var failure: BlobStoreError?
            bytes.withUnsafeBytes { buffer in
                while written < buffer.count {
                    let result = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                    if result < 0 {
                        if errno == EINTR { continue }
                        failure = Self.posixError("cannot write '\(key)'")
                        return
                    }
                    written += result
                }
            }
            if failure == nil, fsync(descriptor) != 0 { failure = Self.posixError("cannot flush '\(key)'") }
            close(descriptor)
            if failure == nil, rename(temporary, path) != 0 { failure = Self.posixError("cannot store '\(key)'") }
            if let failure {
                unlink(temporary)
                throw failure
            }
            // The rename is only durable once the directory's entry is on disk too.
            let folderDescriptor = open(folder, O_RDONLY | O_CLOEXEC)
            if folderDescriptor >= 0 {
                fsync(folderDescriptor)
                close(folderDescriptor)
            }
        }
    }

    func get(_ key: String) async throws -> Data {
        let path = try path(for: key)
        return try await onThreadPool {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                if errno == ENOENT || errno == ENOTDIR { throw BlobStoreError.notFound(key: key) }
                throw Self.posixError("cannot open '\(key)'")
            }
            let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            // A directory is where longer keys live, not an object.
            var info = stat()
            guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
                throw BlobStoreError.notFound(key: key)
            }
            do {
                return try handle.readToEnd() ?? Data()
            } catch {
                throw BlobStoreError.unavailable("cannot read '\(key)': \(Self.reason(error))")
            }
        }
    }

    func delete(_ key: String) async throws {
        let path = try path(for: key)
        try await onThreadPool {
            if unlink(path) != 0, errno != ENOENT, errno != ENOTDIR, errno != EISDIR {
                throw Self.posixError("cannot delete '\(key)'")
            }
        }
    }

    func presignedDownloadURL(_ key: String, fileName: String, contentType: String) async throws -> URL? {
        try BlobKey.validate(key)
        return nil
    }

    func putFile(_ key: String, from fileURL: URL, sha256: String, contentType: String) async throws {
        let path = try path(for: key)
        try await onThreadPool {
            let folder = (path as NSString).deletingLastPathComponent
            let temporary = folder + "/.tmp-" + UUID().uuidString.lowercased()
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                try FileManager.default.copyItem(atPath: fileURL.path, toPath: temporary)
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: temporary)
            } catch {
                unlink(temporary)
                throw BlobStoreError.unavailable("cannot store '\(key)': \(Self.reason(error))")
            }
            let descriptor = open(temporary, O_RDONLY | O_CLOEXEC)
            if descriptor >= 0 {
                fsync(descriptor)
                close(descriptor)
            }
            guard rename(temporary, path) == 0 else {
                let failure = Self.posixError("cannot store '\(key)'")
                unlink(temporary)
                throw failure
            }
        }
    }

    func stream(_ key: String) async throws -> BlobStream {
        let path = try path(for: key)
        guard FileManager.default.fileExists(atPath: path) else { throw BlobStoreError.notFound(key: key) }
        return try FileChunks.stream(path: path)
    }

    /// `directory/key`, once the key is known to be safe.
    func path(for key: String) throws(BlobStoreError) -> String {
        try BlobKey.validate(key)
        guard directory.hasPrefix("/") else {
            throw .misconfigured("the storage directory '\(directory)' is not an absolute path (MEANDER_STORAGE_DIR)")
        }
        return (directory.hasSuffix("/") ? String(directory.dropLast()) : directory) + "/" + key
    }

    private func onThreadPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await NIOThreadPool.singleton.runIfActive(work)
        } catch let error as BlobStoreError {
            throw error
        } catch {
            throw BlobStoreError.unavailable("the file thread pool failed: \(Self.reason(error))")
        }
    }

    private static func posixError(_ message: String) -> BlobStoreError {
        .unavailable("\(message): \(String(cString: strerror(errno)))")
    }

    private static func reason(_ error: any Error) -> String {
        (error as NSError).localizedDescription
    }
}
