import WardenCore

/// Taobao bags and cases, original-design sellers (RULES.md §2).
///
/// - L1–L5 are evaluated from the shop's `shop-profile` when asked (`shop.get` →
///   `original_design`), one check per rule; `eligible` when L1, L2, L3 and L5 hold.
///   Qualifications the profile does not report (design capability, copyright
///   registration, the marketing "new eight rules", the other removal grounds) are named
///   in the details as not checked.
/// - L6: a listing without a registered prototype photo, or registered at or after its
///   first listing, is a finding (protection does not hold).
/// - L7: an `ip-infringement` complaint opens an evidence case due `evidence_window`
///   (24 h) later; evidence is strong only if a `prototype-photo` item was registered
///   before the listing was first listed, and the case says which. RULES.md set no
///   amount, so a missed window or a liable verdict closes the case without a ledger
///   entry.
public struct Luggage: Policy {
    public static let id = "luggage"
    public var id: String { Self.id }

    public let evidenceWindow: TimeSpan

    public init(evidenceWindow: TimeSpan = .hours(24)) { self.evidenceWindow = evidenceWindow }

    public static let registration = PolicyRegistration(
        id: id,
        version: "1.0.0",
        categories: [id],
        summary: "Taobao bags & cases original design: eligibility checks, prototype registration, infringement evidence (L1–L7)",
        parameters: [
            ParameterSpec(name: "evidence_window", kind: .duration, defaultValue: .duration(.hours(24)), summary: "time to answer an infringement complaint with evidence (L7, assumption)")
        ],
        recordTypes: [ShopProfile.declaration],
        make: { p in Luggage(evidenceWindow: try p.duration("evidence_window")) }
    )

    public func evaluate(_ input: PolicyInput, facts: Facts) -> [Decision] {
        switch input {
        case .deadlineDue(let caseId, let due):
            guard let c = facts.currentCase, c.state == .awaitingEvidence, c.deadline == due else { return [] }
            return [.changeState(caseId: caseId, state: .defaulted, at: due, note: "L7: no evidence within \(evidenceWindow) (deadline \(cst(due))); RULES.md set no amount, none booked")]
        case .record(let record):
            switch record.payload {
            case .listing(let l): return listingArrived(l, now: facts.now)
            case .complaint(let c): return complaintArrived(c, facts: facts)
            case .evidence(let e): return evidenceArrived(e, facts: facts)
            case .verdict(let v): return verdictArrived(v, facts: facts)
            default: return []
            }
        }
    }

    // MARK: - L6

    /// An undated listing (no `first_listed_at`) is judged when it arrives (`now`).
    func listingArrived(_ l: Listing, now: Timestamp) -> [Decision] {
        let subject = "listing:\(l.listingId)"
        guard let registered = l.prototypeRegisteredAt else {
            return [.recordFinding(NewFinding(rule: "L6", subject: subject, severity: .violation, message: "no prototype photo registered: registration before first listing is mandatory, and without it the design is not protected", at: l.firstListedAt ?? now, dedupeKey: "L6:\(subject)"))]
        }
        if let first = l.firstListedAt, registered >= first {
            return [.recordFinding(NewFinding(rule: "L6", subject: subject, severity: .warning, message: "prototype photo registered \(cst(registered)), not before the first listing \(cst(first)): protection does not hold", at: first, dedupeKey: "L6:\(subject)"))]
        }
        return []
    }

    // MARK: - L7

    func complaintArrived(_ c: Complaint, facts: Facts) -> [Decision] {
        guard c.reason == .ipInfringement, let order = facts.order, facts.currentCase == nil else { return [] }
        let deadline = c.openedAt + evidenceWindow
        var note = "L7: submit evidence within \(evidenceWindow), before \(cst(deadline)); "
        if let l = facts.listing, let first = l.firstListedAt {
            note += "evidence is strong only with a prototype photo registered before listing \(l.listingId) was first listed (\(cst(first)))"
        } else {
            note += "no listing with a first-listing date is known (name listing_id on the complaint or the order), so evidence strength cannot be judged"
        }
        return [.openCase(NewCase(caseId: c.complaintId, orderId: order.orderId, category: id, shop: order.shop, reason: c.reason, state: .awaitingEvidence, openedAt: c.openedAt, deadline: deadline, note: note))]
    }

    /// Whether evidence is strong (L6/L7), and why.
    public static func strength(of items: [EvidenceItem], listing: Listing?) -> (strong: Bool, reason: String) {
        let photos = items.filter { $0.kind == .prototypePhoto }
        guard !photos.isEmpty else { return (false, "no prototype-photo item") }
        guard let first = listing?.firstListedAt else { return (false, "the listing's first-listing date is unknown") }
        let registered = photos.compactMap(\.registeredAt)
        guard !registered.isEmpty else { return (false, "the prototype photo carries no registered_at") }
        let earliest = registered.min()!
        if earliest < first {
            return (true, "prototype photo registered \(TimeFormat.format(earliest, in: .shanghai)), before the first listing \(TimeFormat.format(first, in: .shanghai))")
        }
        return (false, "prototype photo registered \(TimeFormat.format(earliest, in: .shanghai)), not before the first listing \(TimeFormat.format(first, in: .shanghai))")
    }

    func evidenceArrived(_ e: EvidenceSubmission, facts: Facts) -> [Decision] {
        guard let c = facts.currentCase else { return [] }
        let inTime = c.deadline.map { e.submittedAt < $0 } ?? true
        let (strong, reason) = Self.strength(of: e.items, listing: facts.listing)
        let strength = "L7: evidence is \(strong ? "strong" : "weak"): \(reason)"
        var decisions: [Decision] = [.attachEvidence(caseId: c.caseId, items: e.items, submittedAt: e.submittedAt, inTime: inTime)]
        if c.state == .awaitingEvidence && inTime {
            decisions.append(.changeState(caseId: c.caseId, state: .evidenceSubmitted, at: e.submittedAt, note: "evidence in time; \(strength)"))
        } else {
            decisions.append(.note(caseId: c.caseId, at: e.submittedAt, note: (inTime ? "further evidence; " : "evidence after the deadline; ") + strength))
        }
        return decisions
    }

    func verdictArrived(_ v: Verdict, facts: Facts) -> [Decision] {
        guard let c = facts.currentCase else { return [] }
        switch (c.state, v.outcome) {
        case (.awaitingEvidence, .sellerLiable), (.evidenceSubmitted, .sellerLiable):
            return [.changeState(caseId: c.caseId, state: .liable, at: v.decidedAt, note: "verdict seller-liable; RULES.md set no amount for L7, none booked")]
        case (.awaitingEvidence, .sellerNotLiable), (.evidenceSubmitted, .sellerNotLiable):
            return [.changeState(caseId: c.caseId, state: .resolved, at: v.decidedAt, note: "verdict seller-not-liable")]
        default:
            return [.note(caseId: c.caseId, at: v.decidedAt, note: "verdict \(v.outcome.rawValue) recorded on a case already \(c.state.rawValue)")]
        }
    }

    // MARK: - L1–L5

    public struct Check: Sendable, Equatable {
        public var rule: String
        public var ok: Bool
        public var detail: String
    }

    /// The original-design checks for a profile at `now`.
    public static func checks(_ p: ShopProfile?, now: Timestamp) -> [Check] {
        guard let p else {
            return ["L1", "L2", "L3", "L5"].map { Check(rule: $0, ok: false, detail: "no shop-profile record received") }
                + [Check(rule: "L4", ok: true, detail: "applications are reviewed every Wednesday")]
        }
        var checks: [Check] = []
        switch p.ifashion {
        case true?: checks.append(Check(rule: "L1", ok: true, detail: "an iFashion merchant"))
        case false?: checks.append(Check(rule: "L1", ok: false, detail: "not an iFashion merchant (prerequisite)"))
        case nil: checks.append(Check(rule: "L1", ok: false, detail: "ifashion not reported"))
        }
        var basic: [String] = []
        if let v = p.seriousViolationPoints, v >= 12 { basic.append("\(v) serious-violation points (12-point penalty)") }
        if let b = p.bClassPoints, b >= 6 { basic.append("\(b) B-class points (6-point penalty)") }
        if let until = p.searchShieldedUntil, until > now { basic.append("search-shielded until \(TimeFormat.format(until, in: .shanghai))") }
        if p.counterfeitPenalty == true { basic.append("a counterfeit-selling penalty") }
        checks.append(Check(rule: "L2", ok: basic.isEmpty, detail: (basic.isEmpty ? "no disqualifying penalty" : "disqualified: " + basic.joined(separator: "; ")) + " (the marketing \"new eight rules\" are not reported and not checked)"))
        var l3: [String] = []
        var l3ok = true
        if let v = p.videoCoverage {
            let percent = (v * 1000).rounded() / 10
            l3.append("micro-detail video coverage \(percent)% (at least 85%)")
            if v < 0.85 { l3ok = false }
        } else {
            l3.append("video_coverage not reported")
            l3ok = false
        }
        if let live = p.liveStreamsLastMonth {
            l3.append("\(live) live streams last month (at least 1)")
            if live < 1 { l3ok = false }
        } else {
            l3.append("live_streams_last_month not reported")
            l3ok = false
        }
        checks.append(Check(rule: "L3", ok: l3ok, detail: l3.joined(separator: "; ") + "; design capability and copyright registration are not reported and not checked"))
        checks.append(Check(rule: "L4", ok: true, detail: "applications are reviewed every Wednesday"))
        if let s = p.sLevelPromotions {
            checks.append(Check(rule: "L5", ok: s >= 2, detail: "\(s) S-level promotions (at least 2)"))
        } else {
            checks.append(Check(rule: "L5", ok: false, detail: "s_level_promotions not reported"))
        }
        return checks.sorted { $0.rule < $1.rule }
    }

    /// The date of the next Wednesday review in CST: today if today is a Wednesday.
    public static func nextReview(after now: Timestamp) -> String {
        let c = TimeFormat.components(now, in: .shanghai)
        let ahead = (3 - c.weekday + 7) % 7
        return TimeFormat.date(now + .days(Int64(ahead)), in: .shanghai)
    }

    public func shopView(_ facts: ShopFacts) -> JSONObject {
        let checks = Self.checks(facts.records.lazy.compactMap(ShopProfile.init).first, now: facts.now)
        let eligible = checks.allSatisfy(\.ok)
        return [
            "original_design": [
                "eligible": .bool(eligible),
                "checks": .array(checks.map { ["rule": .string($0.rule), "ok": .bool($0.ok), "detail": .string($0.detail)] }),
                "next_review": .string(Self.nextReview(after: facts.now)),
            ]
        ]
    }

    private func cst(_ t: Timestamp) -> String { TimeFormat.format(t, in: .shanghai) }
}
