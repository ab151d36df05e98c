/// A policy module: the rules of one category as a pure function.
///
/// A policy never touches the database, the clock or the filesystem. It is given an
/// input and the facts the engine gathered, and returns decisions. That makes every rule
/// testable with a table of inputs and replayable from stored records.
public protocol Policy: Sendable {
    /// The module id, e.g. `kitchen-appliances`; also the `category` of its cases.
    var id: String { get }
    func evaluate(_ input: PolicyInput, facts: Facts) -> [Decision]
}

/// What happened.
public enum PolicyInput: Sendable, Equatable {
    /// A validated record arrived (spool, `record.submit`, or a replay).
    case record(Record)
    /// A case's deadline came due.
    case deadlineDue(caseId: String, due: Timestamp)
}

/// What the engine knows that bears on an input.
public struct Facts: Sendable, Equatable {
    /// The order the input concerns, if known.
    public var order: Order?
    /// The case the input concerns, if one is open (or closed) for it.
    public var currentCase: CaseRecord?
    /// The engine's clock when the input is applied.
    public var now: Timestamp

    public init(order: Order? = nil, currentCase: CaseRecord? = nil, now: Timestamp) {
        self.order = order
        self.currentCase = currentCase
        self.now = now
    }
}
