/// An input waiting for a module that runs out of process: a stored record, or a
/// deadline that fired. Kept by reference (the record itself is in the store).
public enum QueuedInput: Sendable, Equatable {
    case record(type: RecordType, key: String)
    case deadline(caseId: String, due: Timestamp)
}

/// One entry of a module's queue.
public struct QueuedItem: Sendable, Equatable {
    public var id: Int64
    public var module: String
    public var input: QueuedInput
    public var queuedAt: Timestamp
    /// Evaluations that failed so far (the second failure holds the item).
    public var attempts: Int

    public init(id: Int64, module: String, input: QueuedInput, queuedAt: Timestamp, attempts: Int) {
        self.id = id
        self.module = module
        self.input = input
        self.queuedAt = queuedAt
        self.attempts = attempts
    }
}
