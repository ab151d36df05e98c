import WardenCore

/// M5 as a pure function: which ship negotiations are in force and the order's effective
/// ship-by deadline.
///
/// Only buyer-confirmed negotiations count. They are taken in `proposed_at` order; each
/// accepted one replaces the one before (the latest accepted is in force). A confirmed
/// negotiation is refused (stored, not in force, with a reason) when it would be the
/// 4th accepted one, or when its date lies more than 270 days beyond the original
/// promise: 90 + 90 + 90 days is allowed, a 271st day is not.
public struct NegotiationRules: Sendable {
    public var maxNegotiations: Int
    public var maxDays: Int

    public init(maxNegotiations: Int = 3, maxDays: Int = 270) {
        self.maxNegotiations = maxNegotiations
        self.maxDays = maxDays
    }

    public struct Outcome: Sendable, Equatable {
        public var statuses: [NegotiationStatus]
        /// The negotiated date in force, or the original promise.
        public var shipDeadline: Timestamp?
        /// The negotiation in force, if any.
        public var inForce: ShipNegotiation?
    }

    public func judge(originalShipBy: Timestamp?, _ negotiations: [ShipNegotiation]) -> Outcome {
        var statuses: [NegotiationStatus] = []
        var accepted = 0
        var current: Int?
        for n in negotiations.sorted(by: { $0.proposedAt < $1.proposedAt }) {
            guard n.buyerConfirmed else {
                statuses.append(NegotiationStatus(negotiation: n, inForce: false, note: "not confirmed by the buyer: not in force (M5)"))
                continue
            }
            guard let original = originalShipBy else {
                statuses.append(NegotiationStatus(negotiation: n, inForce: false, note: "the order has no original ship-by date to extend (M5)"))
                continue
            }
            if accepted >= maxNegotiations {
                statuses.append(NegotiationStatus(negotiation: n, inForce: false, note: "refused: negotiation \(accepted + 1) of at most \(maxNegotiations) (M5)"))
                continue
            }
            let extension_ = n.newShipBy - original
            if extension_ > .days(Int64(maxDays)) {
                let days = (extension_.milliseconds + 86_400_000 - 1) / 86_400_000
                statuses.append(NegotiationStatus(negotiation: n, inForce: false, note: "refused: \(days) days beyond the original promise, at most \(maxDays) in all (M5); beyond that only a written agreement helps (M6)"))
                continue
            }
            if let c = current {
                statuses[c].inForce = false
                statuses[c].note = "superseded by the negotiation proposed \(TimeFormat.format(n.proposedAt, in: .shanghai))"
            }
            accepted += 1
            let days = max(0, extension_.milliseconds) / 86_400_000
            statuses.append(NegotiationStatus(negotiation: n, inForce: true, note: "in force: ship by \(TimeFormat.format(n.newShipBy, in: .shanghai)) (negotiation \(accepted) of \(maxNegotiations), \(days) days beyond the original promise)"))
            current = statuses.count - 1
        }
        let inForce = current.map { statuses[$0].negotiation }
        return Outcome(statuses: statuses, shipDeadline: inForce?.newShipBy ?? originalShipBy, inForce: inForce)
    }
}
