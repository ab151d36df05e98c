/// A policy module: the rules of one category as a pure function.
///
/// A policy never touches the database, the clock or the filesystem. It is given an
/// input and the facts the engine gathered, and returns decisions. That makes every rule
/// testable with a table of inputs and replayable from stored records.
public protocol Policy: Sendable {
    /// The module id, e.g. `kitchen-appliances`; also the `category` of its cases.
    var id: String { get }
    func evaluate(_ input: PolicyInput, facts: Facts) -> [Decision]
    /// What this policy says about a shop now, merged into `shop.get` (e.g.
    /// `original_design`, `service_quality`). Evaluated at query time, so a judgement
    /// that depends on the date (a search shield that ended) is always current.
    func shopView(_ facts: ShopFacts) -> JSONObject
    /// True for a module that runs out of process (SPEC.md §6): the engine queues its
    /// inputs and applies its decisions later, outside the transaction that stored them,
    /// instead of calling `evaluate` there.
    var runsOutOfProcess: Bool { get }
    /// Whether `evidence.submit` takes evidence for one of the module's cases now (the
    /// spool always stores an evidence record; this is the socket's answer).
    func evidenceAcceptance(_ c: CaseRecord, at now: Timestamp, zone: Zone) -> EvidenceAcceptance
}

/// The socket's answer to evidence for a case (`evidence.submit`).
public enum EvidenceAcceptance: Sendable, Equatable {
    case accept
    /// Error 1002: the window closed.
    case deadlinePassed(String)
    /// Error 1003: the case is in a state that takes no evidence.
    case wrongState(String)

    /// The usual rule (K3, L7, and external modules): evidence while the case awaits
    /// it, before its deadline, or once evidence was submitted.
    public static func evidenceWindow(_ c: CaseRecord, at now: Timestamp, zone: Zone) -> EvidenceAcceptance {
        switch c.state {
        case .awaitingEvidence:
            if let deadline = c.deadline, now >= deadline {
                return .deadlinePassed("the evidence deadline of case \(c.caseId) was \(TimeFormat.format(deadline, in: zone))")
            }
            return .accept
        case .evidenceSubmitted:
            return .accept
        case .defaulted:
            return .deadlinePassed("case \(c.caseId) defaulted: the evidence window closed")
        default:
            return .wrongState("case \(c.caseId) is \(c.state.rawValue); evidence is taken while it is awaiting-evidence or evidence-submitted")
        }
    }
}

extension Policy {
    public var runsOutOfProcess: Bool { false }
    public func evidenceAcceptance(_ c: CaseRecord, at now: Timestamp, zone: Zone) -> EvidenceAcceptance {
        .evidenceWindow(c, at: now, zone: zone)
    }
    public func shopView(_ facts: ShopFacts) -> JSONObject { JSONObject() }
}

/// What the engine knows about a shop, for `shopView`: the stored records keyed by the
/// shop, of the types modules declare (a module reads its own: `shop-profile`,
/// `chat-metrics`, …).
public struct ShopFacts: Sendable, Equatable {
    public var shop: String
    public var records: [Record]
    public var now: Timestamp
    public var zone: Zone
    public init(shop: String, records: [Record], now: Timestamp, zone: Zone) {
        self.shop = shop
        self.records = records
        self.now = now
        self.zone = zone
    }
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
    /// The order the input concerns, if known (with `shippedAt`/`refundedAt` from its
    /// shipment and refund records).
    public var order: Order?
    /// The case the input concerns, if one is open (or closed) for it.
    public var currentCase: CaseRecord?
    /// Every case of the order, oldest first.
    public var orderCases: [CaseRecord]
    /// The stored records of the module's own declared types about the order (or, for
    /// a type keyed by shop, the shop): SPEC.md §6 `facts.records`.
    public var records: [Record]
    /// The listing the input refers to (a complaint's or its order's `listing_id`).
    public var listing: Listing?
    /// Dedupe keys of ledger entries already booked for the order (or shop).
    public var bookedKeys: Set<String>
    /// The engine's clock when the input is applied.
    public var now: Timestamp

    public init(
        order: Order? = nil, currentCase: CaseRecord? = nil, orderCases: [CaseRecord] = [], records: [Record] = [],
        listing: Listing? = nil, bookedKeys: Set<String> = [], now: Timestamp
    ) {
        self.order = order
        self.currentCase = currentCase
        self.orderCases = orderCases
        self.records = records
        self.listing = listing
        self.bookedKeys = bookedKeys
        self.now = now
    }
}
