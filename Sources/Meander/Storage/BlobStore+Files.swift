import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A stored object read as a stream of chunks, so a large file never sits in memory whole.
struct BlobStream: Sendable {
    /// The size in bytes, when the store says.
    var length: Int?
    var chunks: BlobChunks
}

/// Chunks pulled one at a time: the next is read only when the consumer asks for it, so a slow reader (a download
/// over a slow link) holds back the reading instead of letting chunks pile up in memory.
struct BlobChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    /// Makes the pull function of one iteration.
    let start: @Sendable () -> @Sendable () async throws -> ByteBuffer?

    struct AsyncIterator: AsyncIteratorProtocol {
        let pull: @Sendable () async throws -> ByteBuffer?

        mutating func next() async throws -> ByteBuffer? { try await pull() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pull: start()) }
}

/// Reads a local file in 64 KiB chunks, on NIO's thread pool.
enum FileChunks {
    static let chunkSize = 64 * 1024

    static func stream(path: String) throws(BlobStoreError) -> BlobStream {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .notFound(key: (path as NSString).lastPathComponent)
        }
        let length = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
        let chunks = BlobChunks {
            let handle = NIOLockedValueBox<FileHandle?>(nil)
            let finished = NIOLockedValueBox(false)
            return {
                try await NIOThreadPool.singleton.runIfActive {
                    try handle.withLockedValue { current -> ByteBuffer? in
                        if finished.withLockedValue({ $0 }) { return nil }
                        if current == nil {
                            guard let opened = FileHandle(forReadingAtPath: path) else {
                                throw BlobStoreError.unavailable("cannot open a stored file for reading")
                            }
                            current = opened
                        }
                        guard let data = try current?.read(upToCount: chunkSize), !data.isEmpty else {
                            try? current?.close()
                            current = nil
                            finished.withLockedValue { $0 = true }
                            return nil
                        }
                        return ByteBuffer(bytes: data)
                    }
                }
            }
        }
        return BlobStream(length: length, chunks: chunks)
    }
}

/// Wraps an iterator that is used by one consumer at a time (pulls are sequential by `AsyncIteratorProtocol`'s
/// contract), so that it can sit in a `@Sendable` pull function.
final class SequentialIterator<Base: AsyncIteratorProtocol>: @unchecked Sendable where Base.Element == ByteBuffer {
    private var base: Base

    init(_ base: Base) { self.base = base }

    func next() async throws -> ByteBuffer? { try await base.next() }
}
