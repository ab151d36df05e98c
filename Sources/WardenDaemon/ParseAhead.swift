#if canImport(Glibc)
import Glibc
#endif
import WardenCore
import WardenSpool

/// Reads and validates a large NDJSON file on a thread of its own while the writer applies
/// the records already read, so parsing and SQLite use both cores. Records cross in
/// chunks through a bounded queue: the reader never runs more than `capacity` chunks
/// ahead, so memory stays bounded whatever the file's size.
///
/// Trusts: nothing in the file (every line goes through `JSONParser` and `RecordParser`).
/// Refuses: at the first line that is not a valid record the reader stops and reports
/// `invalid`; the consumer rolls back and a separate pass lists every error. The reader
/// stops early when the consumer cancels (an error on the writer's side).
final class ParseAhead: @unchecked Sendable {
    enum Item {
        case records([Record])
        /// A line that is not a valid record (or is too long): the file is refused.
        case invalid
        /// The end of the file; `records` is how many were read in all.
        case end(records: Int)
        case failed(any Error)
    }

    static let chunk = 256
    private let condition = ConditionLock()
    private var queue: [Item] = []
    private var head = 0
    /// Chunks the writer is done with, freed by the reader (freeing thousands of records
    /// is work the writer, the busier thread, need not do).
    private var done: [[Record]] = []
    private var cancelled = false
    private var finished = false
    private let capacity: Int

    /// Starts reading `path` at once.
    init(path: String, maxLine: Int, parser: RecordParser, capacity: Int = 8) {
        self.capacity = capacity
        let thread = OSThread { [self] in
            read(path: path, maxLine: maxLine, parser: parser)
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "warden-spool-parse"
        do {
            try thread.start()
        } catch {
            // No reader: the consumer gets the error at once (and retries the file later).
            queue = [.failed(error)]
            finished = true
        }
    }

    /// The next item, waiting for the reader if it is behind.
    func next() -> Item {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count { condition.wait() }
        let item = queue[head]
        queue[head] = .invalid  // the queue lets go: the consumer holds the last reference
        head += 1
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        }
        condition.broadcast()
        return item
    }

    /// Hands back a chunk the consumer has applied, to be freed on the reader's thread.
    /// The consumer must keep no other reference to it.
    func recycle(_ records: consuming [Record]) {
        condition.lock()
        done.append(records)
        condition.unlock()
    }

    /// Stops the reader and waits until it has closed the file.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// Queues an item; false once the consumer has cancelled.
    private func put(_ item: Item) -> Bool {
        var freed: [[Record]] = []
        condition.lock()
        while queue.count - head >= capacity && !cancelled { condition.wait() }
        swap(&freed, &done)
        let accepted = !cancelled
        if accepted {
            queue.append(item)
            condition.broadcast()
        }
        condition.unlock()
        withExtendedLifetime(freed) {}  // the recycled chunks are freed here, outside the lock
        return accepted
    }

    private func read(path: String, maxLine: Int, parser: RecordParser) {
        guard var reader = LineReader(path: path, maxLine: maxLine) else {
            _ = put(.failed(SpoolError.vanished(name: SystemIO.baseName(path))))
            return
        }
        var chunk: [Record] = []
        chunk.reserveCapacity(Self.chunk)
        var index = 0
        do {
            while let line = try reader.next() {
                guard case .text(let bytes, let number) = line else {
                    _ = put(.invalid)
                    return
                }
                if NDJSON.isBlank(bytes) { continue }
                index += 1
                guard let value = try? JSONParser.parse(bytes), case .success(var record) = parser.parse(value, index: index, line: number) else {
                    _ = put(.invalid)
                    return
                }
                record.raw = String(decoding: bytes, as: UTF8.self)
                chunk.append(record)
                if chunk.count == Self.chunk {
                    guard put(.records(chunk)) else { return }
                    chunk.removeAll(keepingCapacity: true)
                }
            }
        } catch {
            _ = put(.failed(error))
            return
        }
        if !chunk.isEmpty { guard put(.records(chunk)) else { return } }
        _ = put(.end(records: index))
    }
}
