/// One validated record: its type, its identity (`key`, unique per type), the raw object
/// as received, and its typed content.
public struct Record: Sendable, Equatable {
    public enum Payload: Sendable, Equatable {
        case order(Order)
        case complaint(Complaint)
        case evidence(EvidenceSubmission)
        case verdict(Verdict)
    }

    public var type: RecordType
    /// The record's identity within its type (SPEC.md §2 "key"); composite keys are joined
    /// with `|`, times in them normalised to milliseconds so two spellings of one instant
    /// are one record.
    public var key: String
    public var body: JSONObject
    public var payload: Payload

    public init(type: RecordType, key: String, body: JSONObject, payload: Payload) {
        self.type = type
        self.key = key
        self.body = body
        self.payload = payload
    }

    /// The complaint (case) this record concerns, if any.
    public var complaintId: String? {
        switch payload {
        case .order: nil
        case .complaint(let c): c.complaintId
        case .evidence(let e): e.complaintId
        case .verdict(let v): v.complaintId
        }
    }

    /// The order this record concerns, if it names one.
    public var orderId: String? {
        switch payload {
        case .order(let o): o.orderId
        case .complaint(let c): c.orderId
        case .evidence, .verdict: nil
        }
    }

    /// The time the record speaks of (paid, opened, submitted, decided): used to order
    /// replays and to judge rules by their effective dates.
    public var eventTime: Timestamp {
        switch payload {
        case .order(let o): o.paidAt
        case .complaint(let c): c.openedAt
        case .evidence(let e): e.submittedAt
        case .verdict(let v): v.decidedAt
        }
    }
}
