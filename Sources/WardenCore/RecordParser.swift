/// Validates raw JSON objects into `Record`s, collecting every error in a record rather
/// than stopping at the first, so a producer can fix a file in one pass.
///
/// Trusts nothing in the input. Refuses: ids given as JSON numbers (a Taobao `tid`
/// exceeds 2^53 and would silently lose digits), money given as JSON numbers or with more
/// than two decimals, times that are not RFC 3339 or the Taobao `YYYY-MM-DD HH:MM:SS`
/// form, unknown enum values, and record types this version does not handle.
public struct RecordParser: Sendable {
    public let zone: Zone
    /// Record types accepted; others are rejected with a message naming the ones accepted.
    public let acceptedTypes: Set<RecordType>

    public static let supportedTypes: Set<RecordType> = [.order, .complaint, .evidence, .verdict]
    public static let maxIdLength = 128

    public init(zone: Zone, acceptedTypes: Set<RecordType> = RecordParser.supportedTypes) {
        self.zone = zone
        self.acceptedTypes = acceptedTypes
    }

    /// Validates one record. `index` and `line` (1-based) are copied into each error.
    public func parse(_ value: JSON, index: Int? = nil, line: Int? = nil) -> Result<Record, RecordErrors> {
        func fail(_ field: String?, _ message: String) -> Result<Record, RecordErrors> {
            .failure(RecordErrors([RecordError(record: index, line: line, field: field, message: message)]))
        }
        guard case .object(let object) = value else {
            return fail(nil, "a record must be a JSON object, got \(value.kindName)")
        }
        guard let typeValue = object["type"] else { return fail("type", "missing required field") }
        guard case .string(let typeName) = typeValue else {
            return fail("type", "expected a string, got \(typeValue.kindName)")
        }
        guard let type = RecordType(rawValue: typeName) else {
            return fail("type", "unknown record type \"\(typeName)\"; expected one of \(Self.names(RecordType.allCases))")
        }
        guard acceptedTypes.contains(type) else {
            let accepted = RecordType.allCases.filter(acceptedTypes.contains)
            return fail("type", "record type \"\(typeName)\" is not handled by this version of Warden; accepted: \(Self.names(accepted))")
        }
        var reader = FieldReader(object: object, zone: zone)
        let built: (key: String, payload: Record.Payload)? =
            switch type {
            case .order: Self.order(&reader)
            case .complaint: Self.complaint(&reader)
            case .evidence: Self.evidence(&reader)
            case .verdict: Self.verdict(&reader)
            default: nil
            }
        if !reader.errors.isEmpty || built == nil {
            let errors = reader.errors.isEmpty ? [(field: String?.none, message: "unsupported record type")] : reader.errors
            return .failure(RecordErrors(errors.map { RecordError(record: index, line: line, field: $0.field, message: $0.message) }))
        }
        return .success(Record(type: type, key: built!.key, body: object, payload: built!.payload))
    }

    static func names<S: Sequence>(_ values: S) -> String where S.Element: RawRepresentable, S.Element.RawValue == String {
        values.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
    }

    // MARK: - Types

    static func order(_ r: inout FieldReader) -> (String, Record.Payload)? {
        let id = r.id("order_id", aliases: ["tid"])
        let category = r.string("category", required: true)
        let paid = r.money("paid_amount", aliases: ["payment"], required: true)
        let paidAt = r.time("paid_at", aliases: ["pay_time"], required: true)
        let shop = r.string("shop")
        let item = r.string("item")
        let shipBy = r.time("ship_by")
        let shippedAt = r.time("shipped_at", aliases: ["consign_time"])
        let delivery = r.enumeration("delivery_service", DeliveryService.self)
        let presale = r.bool("presale")
        guard let id, let category, let paid, let paidAt else { return nil }
        return (
            id,
            .order(
                Order(
                    orderId: id, category: category, paidAmount: paid, paidAt: paidAt, shop: shop, item: item,
                    shipBy: shipBy, shippedAt: shippedAt, deliveryService: delivery, presale: presale))
        )
    }

    static func complaint(_ r: inout FieldReader) -> (String, Record.Payload)? {
        let id = r.id("complaint_id")
        let orderId = r.id("order_id", aliases: ["tid"])
        let reason = r.enumeration("reason", ComplaintReason.self, required: true)
        let openedAt = r.time("opened_at", required: true)
        let note = r.string("note")
        guard let id, let orderId, let reason, let openedAt else { return nil }
        return (id, .complaint(Complaint(complaintId: id, orderId: orderId, reason: reason, openedAt: openedAt, note: note)))
    }

    static func evidence(_ r: inout FieldReader) -> (String, Record.Payload)? {
        let id = r.id("complaint_id")
        let submittedAt = r.time("submitted_at", required: true)
        let items = r.evidenceItems("items")
        let note = r.string("note")
        guard let id, let submittedAt, let items else { return nil }
        return (
            "\(id)|\(submittedAt.milliseconds)",
            .evidence(EvidenceSubmission(complaintId: id, submittedAt: submittedAt, items: items, note: note))
        )
    }

    static func verdict(_ r: inout FieldReader) -> (String, Record.Payload)? {
        let id = r.id("complaint_id")
        let outcome = r.enumeration("outcome", VerdictOutcome.self, required: true)
        let decidedAt = r.time("decided_at", required: true)
        guard let id, let outcome, let decidedAt else { return nil }
        return (id, .verdict(Verdict(complaintId: id, outcome: outcome, decidedAt: decidedAt)))
    }
}

/// Reads typed fields out of a record object, remembering every error.
struct FieldReader {
    let object: JSONObject
    let zone: Zone
    var errors: [(field: String?, message: String)] = []

    init(object: JSONObject, zone: Zone) {
        self.object = object
        self.zone = zone
    }

    /// The value of `name`, or of the first alias present; with the name actually used.
    private func lookup(_ name: String, _ aliases: [String]) -> (String, JSON)? {
        if let v = object[name], !v.isNull { return (name, v) }
        for alias in aliases { if let v = object[alias], !v.isNull { return (alias, v) } }
        return nil
    }

    private mutating func missing(_ name: String, _ aliases: [String]) {
        let also = aliases.isEmpty ? "" : " (or its alias \(aliases.map { "\"\($0)\"" }.joined(separator: ", ")))"
        errors.append((name, "missing required field\(also)"))
    }

    mutating func id(_ name: String, aliases: [String] = []) -> String? {
        guard let (field, value) = lookup(name, aliases) else {
            missing(name, aliases)
            return nil
        }
        switch value {
        case .string(let s) where s.isEmpty:
            errors.append((field, "must not be empty"))
        case .string(let s) where s.utf8.count > RecordParser.maxIdLength:
            errors.append((field, "longer than \(RecordParser.maxIdLength) bytes"))
        case .string(let s) where s.contains(where: { $0.isNewline || $0 == "|" }):
            errors.append((field, "must not contain line breaks or '|'"))
        case .string(let s):
            return s
        case .number:
            errors.append((field, "ids must be JSON strings: a Taobao tid exceeds 2^53 and a JSON number loses its last digits; write the id in quotes"))
        default:
            errors.append((field, "expected a string id, got \(value.kindName)"))
        }
        return nil
    }

    mutating func string(_ name: String, required: Bool = false) -> String? {
        guard let (field, value) = lookup(name, []) else {
            if required { missing(name, []) }
            return nil
        }
        guard case .string(let s) = value else {
            errors.append((field, "expected a string, got \(value.kindName)"))
            return nil
        }
        if required && s.isEmpty { errors.append((field, "must not be empty")) }
        return s
    }

    mutating func money(_ name: String, aliases: [String] = [], required: Bool = false) -> Money? {
        guard let (field, value) = lookup(name, aliases) else {
            if required { missing(name, aliases) }
            return nil
        }
        switch value {
        case .string(let s):
            if let m = Money(parsing: s) {
                if m.fen < 0 { errors.append((field, "must not be negative")) } else { return m }
            } else {
                errors.append((field, "\"\(s)\" is not an amount: expected a decimal string with at most two decimals, e.g. \"1299.00\""))
            }
        case .number:
            errors.append((field, "money must be a decimal string, not a JSON number; write \"\(value)\""))
        default:
            errors.append((field, "expected a decimal string like \"1299.00\", got \(value.kindName)"))
        }
        return nil
    }

    mutating func time(_ name: String, aliases: [String] = [], required: Bool = false) -> Timestamp? {
        guard let (field, value) = lookup(name, aliases) else {
            if required { missing(name, aliases) }
            return nil
        }
        guard case .string(let s) = value else {
            errors.append((field, "expected a time string, got \(value.kindName)"))
            return nil
        }
        guard let t = TimeFormat.parse(s, defaultZone: zone) else {
            errors.append((field, "\"\(s)\" is not a time: expected RFC 3339 (2023-04-05T09:30:00+08:00) or \"2023-04-05 09:30:00\" (read in \(zone.identifier))"))
            return nil
        }
        return t
    }

    mutating func bool(_ name: String, required: Bool = false) -> Bool? {
        guard let (field, value) = lookup(name, []) else {
            if required { missing(name, []) }
            return nil
        }
        guard case .bool(let b) = value else {
            errors.append((field, "expected true or false, got \(value.kindName)"))
            return nil
        }
        return b
    }

    mutating func enumeration<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type, required: Bool = false) -> E?
    where E.RawValue == String {
        guard let (field, value) = lookup(name, []) else {
            if required { missing(name, []) }
            return nil
        }
        guard case .string(let s) = value, let e = E(rawValue: s) else {
            errors.append((field, "\(value) is not one of \(RecordParser.names(E.allCases))"))
            return nil
        }
        return e
    }

    mutating func evidenceItems(_ name: String) -> [EvidenceItem]? {
        guard let (field, value) = lookup(name, []) else {
            missing(name, [])
            return nil
        }
        guard case .array(let elements) = value else {
            errors.append((field, "expected an array of evidence items, got \(value.kindName)"))
            return nil
        }
        if elements.isEmpty { errors.append((field, "at least one evidence item is required")) }
        var items: [EvidenceItem] = []
        for (i, element) in elements.enumerated() {
            let path = "\(field)[\(i)]"
            guard case .object(let o) = element else {
                errors.append((path, "expected an object {kind, ref}, got \(element.kindName)"))
                continue
            }
            var inner = FieldReader(object: o, zone: zone)
            let kind = inner.enumeration("kind", EvidenceKind.self, required: true)
            let ref = inner.string("ref", required: true)
            let sha = inner.string("sha256")
            let registered = inner.time("registered_at")
            if let sha, sha.count != 64 || !sha.allSatisfy(\.isHexDigit) {
                inner.errors.append(("sha256", "expected 64 hexadecimal digits"))
            }
            errors += inner.errors.map { (path + "." + ($0.field ?? ""), $0.message) }
            if let kind, let ref, inner.errors.isEmpty {
                items.append(EvidenceItem(kind: kind, ref: ref, sha256: sha?.lowercased(), registeredAt: registered))
            }
        }
        return items
    }
}
