/// The states of a case (SPEC.md §3). Open states may carry a deadline; closed states
/// never change again except by an explicit later record (which is kept in the history).
public enum CaseState: String, Sendable, CaseIterable, Hashable {
    case awaitingEvidence = "awaiting-evidence"
    case awaitingAction = "awaiting-action"
    case evidenceSubmitted = "evidence-submitted"
    case reminder
    case platformHandled = "platform-handled"
    case resolved
    case dismissed
    case defaulted
    case liable
    case penalized

    /// Whether the case still waits for something (evidence, an action, a verdict).
    public var isOpen: Bool {
        switch self {
        case .awaitingEvidence, .awaitingAction, .evidenceSubmitted: true
        default: false
        }
    }

    /// Whether the state runs against a deadline.
    public var hasDeadline: Bool { self == .awaitingEvidence || self == .awaitingAction }
}
