/// One validated record: its type, its identity (`key`, unique per type), the raw object
/// as received, and its typed content.
public struct Record: Sendable, Equatable {
    public enum Payload: Sendable, Equatable {
        case order(Order)
        case complaint(Complaint)
        case evidence(EvidenceSubmission)
        case verdict(Verdict)
        case shipment(Shipment)
        case refund(Refund)
        case ticketReply(TicketReply)
        case listing(Listing)
        /// A record of a type a module declared (`RecordDeclaration`).
        case declared(DeclaredRecord)
    }

    public var type: RecordType
    /// The record's identity within its type (SPEC.md §2 "key"); composite keys are joined
    /// with `|`, times in them normalised to milliseconds so two spellings of one instant
    /// are one record.
    public var key: String
    public var body: JSONObject
    public var payload: Payload
    /// The record's JSON text as received (one NDJSON line, a `.json` file holding one
    /// object), when the reader has it: stored as is, which spares serialising `body`
    /// again. Nil for records built from other sources (CSV rows, array elements,
    /// socket calls); those are stored in canonical form.
    public var raw: String?

    public init(type: RecordType, key: String, body: JSONObject, payload: Payload) {
        self.type = type
        self.key = key
        self.body = body
        self.payload = payload
    }

    /// The complaint (case) this record concerns, if any.
    public var complaintId: String? {
        switch payload {
        case .complaint(let c): c.complaintId
        case .evidence(let e): e.complaintId
        case .verdict(let v): v.complaintId
        case .ticketReply(let r): r.complaintId
        case .declared(let d): d.complaintId
        case .order, .shipment, .refund, .listing: nil
        }
    }

    /// The order this record concerns, if it names one.
    public var orderId: String? {
        switch payload {
        case .order(let o): o.orderId
        case .complaint(let c): c.orderId
        case .shipment(let s): s.orderId
        case .refund(let r): r.orderId
        case .declared(let d): d.orderId
        case .evidence, .verdict, .ticketReply, .listing: nil
        }
    }

    /// The shop a shop-level record is about.
    public var shop: String? {
        switch payload {
        case .listing(let l): l.shop
        case .order(let o): o.shop
        case .declared(let d): d.shop
        default: nil
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
        case .shipment(let s): s.shippedAt
        case .refund(let r): r.refundedAt
        case .ticketReply(let r): r.repliedAt
        case .listing(let l): l.firstListedAt ?? Timestamp(milliseconds: 0)
        case .declared(let d): d.at ?? Timestamp(milliseconds: 0)
        }
    }
}
