import Foundation
import NIOCore

/// A stored object read as a stream of chunks, so a large file never sits in memory whole.
struct BlobStream: Sendable {
    /// The size in bytes, when the store says.
    var length: Int?
    var chunks: AsyncThrowingStream<ByteBuffer, any Error>
}

/// Reads a local file in 64 KiB chunks.
enum FileChunks {
    static let chunkSize = 64 * 1024

    static func stream(path: String) throws(BlobStoreError) -> BlobStream {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            if !FileManager.default.fileExists(atPath: path) { throw .notFound(key: (path as NSString).lastPathComponent) }
            throw .unavailable("cannot open a stored file for reading")
        }
        let length = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
        let chunks = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
            let task = Task {
                defer { try? handle.close() }
                do {
                    while !Task.isCancelled {
                        guard let data = try handle.read(upToCount: chunkSize), !data.isEmpty else { break }
                        continuation.yield(ByteBuffer(bytes: data))
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: BlobStoreError.unavailable("cannot read a stored file"))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return BlobStream(length: length, chunks: chunks)
    }
}
