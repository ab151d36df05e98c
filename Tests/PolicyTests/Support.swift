import WardenCore

func cst(_ text: String) -> Timestamp { TimeFormat.parse(text, defaultZone: .shanghai)! }

func record(_ payload: Record.Payload) -> Record {
    Record(type: .order, key: "k", body: JSONObject(), payload: payload)
}

/// A record of a module's declared type, validated by the core from the declaration as
/// the spool does.
func declared(_ body: JSON, _ declaration: RecordDeclaration) -> Record {
    try! RecordParser(zone: .shanghai, declarations: [declaration.type: declaration]).parse(body).get()
}

/// The state a list of decisions leaves a case in, its deadline, bookings and findings.
struct Outcome {
    var state: CaseState?
    var deadline: Timestamp?
    var bookings: [LedgerBooking] = []
    var findings: [NewFinding] = []
    var notes: [String] = []
    var shipTerms: (Timestamp?, [NegotiationStatus])?

    init(_ decisions: [Decision]) {
        for d in decisions {
            switch d {
            case .openCase(let c):
                state = c.state
                deadline = c.deadline
                notes.append(c.note)
            case .changeState(_, let s, _, let note):
                state = s
                notes.append(note)
            case .bookLedger(let b): bookings.append(b)
            case .recordFinding(let f): findings.append(f)
            case .note(_, _, let n): notes.append(n)
            case .setShipTerms(_, let deadline, let statuses): shipTerms = (deadline, statuses)
            case .setDeadline(_, let due): deadline = due
            case .clearDeadline: deadline = nil
            case .attachEvidence: break
            }
        }
    }
}
