/// The record types of SPEC.md §2, by their `"type"` value.
public enum RecordType: String, Sendable, CaseIterable, Hashable {
    case order
    case complaint
    case shipment
    case refund
    case ticketReply = "ticket-reply"
    case shipNegotiation = "ship-negotiation"
    case evidence
    case verdict
    case listing
    case shopProfile = "shop-profile"
    case chatMetrics = "chat-metrics"
}
