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
    /// Types declared by policy modules (SPEC.md §6 `record_types`), validated from their
    /// declarations.
    public let declarations: [RecordType: RecordDeclaration]

    public static let supportedTypes = Set(RecordType.builtin)
    public static let maxIdLength = 128

    // Bounds on numbers, so that no arithmetic a rule does on a record can overflow
    // (amounts are bounded by `Money.maximum`).

    /// The largest count (ratings, rounds, points, live streams) a record may carry.
    public static let maxCount = 1_000_000_000
    /// The longest promised ship time a listing may state, in days (100 years).
    public static let maxShipDays = 36_500
    /// Times a record may name: from 1970-01-01 to 9999-12-30 (UTC), so that every time
    /// stored can be written back in any time zone (UTC−12 to UTC+14) with a four-digit
    /// year and read again (found by the time fuzzer: 9999-12-31T23:59Z is year 10000
    /// in Shanghai).
    public static let timeRange = Timestamp(milliseconds: 0)...Timestamp(milliseconds: 253_402_214_399_999)

    public init(zone: Zone, acceptedTypes: Set<RecordType> = RecordParser.supportedTypes, declarations: [RecordType: RecordDeclaration] = [:]) {
        self.zone = zone
        self.acceptedTypes = acceptedTypes
        self.declarations = declarations
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
        let type = RecordType(typeName)
        let declaration = declarations[type]
        guard type.isBuiltin || declaration != nil else {
            let declared = declarations.keys.sorted().map { " or \"\($0.rawValue)\" (module \(declarations[$0]!.module))" }.joined()
            return fail("type", "unknown record type \"\(typeName.prefix(RecordDeclaration.maxNameLength))\"; expected one of \(Self.names(RecordType.builtin))\(declared)")
        }
        guard acceptedTypes.contains(type) || declaration != nil else {
            let accepted = RecordType.builtin.filter(acceptedTypes.contains)
            return fail("type", "record type \"\(typeName)\" is not handled by this version of Warden; accepted: \(Self.names(accepted))")
        }
        var reader = FieldReader(object: object, zone: zone)
        let built: (key: String, payload: Record.Payload)? =
            switch type {
            case .order: Self.order(&reader)
            case .complaint: Self.complaint(&reader)
            case .evidence: Self.evidence(&reader)
            case .verdict: Self.verdict(&reader)
            case .shipment: Self.shipment(&reader)
            case .refund: Self.refund(&reader)
            case .ticketReply: Self.ticketReply(&reader)
            case .listing: Self.listing(&reader)
            default: declaration.flatMap { Self.declared(&reader, $0) }
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

extension RecordParser {
    static func shipment(_ r: inout FieldReader) -> (String, Record.Payload)? {
        let id = r.id("order_id", aliases: ["tid"])
        let at = r.time("shipped_at", aliases: ["consign_time"], required: true)
        let carrier = r.string("carrier")
        let tracking = r.string("tracking_no")
        guard let id, let at else { return nil }
        return (id, .shipment(Shipment(orderId: id, shippedAt: at, carrier: carrier, trackingNo: tracking)))
    }

    static func refund(_ r: inout FieldReader) -> (String, Record.Payload)? {
        let id = r.id("order_id", aliases: ["tid"])
        let at = r.time("refunded_at", required: true)
        let amount = r.money("amount")
        guard let id, let at else { return nil }
        return (id, .refund(Refund(orderId: id, refundedAt: at, amount: amount)))
    }

    static func ticketReply(_ r: inout FieldReader) -> (String, Record.Payload)? {
        let id = r.id("complaint_id")
        let at = r.time("replied_at", required: true)
        let message = r.string("message")
        guard let id, let at else { return nil }
        return ("\(id)|\(at.milliseconds)", .ticketReply(TicketReply(complaintId: id, repliedAt: at, message: message)))
    }

    static func listing(_ r: inout FieldReader) -> (String, Record.Payload)? {
        let id = r.id("listing_id")
        let category = r.string("category", required: true)
        let listing = Listing(
            listingId: id ?? "", category: category ?? "", shop: r.string("shop"), item: r.string("item"),
            deliveryService: r.enumeration("delivery_service", DeliveryService.self), shipTimeDays: r.count("ship_time_days", max: RecordParser.maxShipDays),
            presale: r.bool("presale"), usesPresaleTool: r.bool("uses_presale_tool"), firstListedAt: r.time("first_listed_at"),
            prototypeRegisteredAt: r.time("prototype_registered_at"))
        guard let id, category != nil else { return nil }
        return (id, .listing(listing))
    }

    static func isMonth(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, Int(parts[0]) != nil, let m = Int(parts[1]) else { return false }
        return (1...12).contains(m)
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
                if m.fen < 0 {
                    errors.append((field, "must not be negative"))
                } else if m > Money.maximum {
                    errors.append((field, "\"\(s)\" is over the largest amount accepted (\(Money.maximum))"))
                } else {
                    return m
                }
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
        guard RecordParser.timeRange.contains(t) else {
            errors.append((field, "\"\(s)\" is outside 1970-01-01 to 9999-12-30, the times records may name"))
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

    /// A non-negative integer (a count, points, days) no larger than `max`.
    mutating func count(_ name: String, required: Bool = false, max: Int = RecordParser.maxCount) -> Int? {
        guard let (field, value) = lookup(name, []) else {
            if required { missing(name, []) }
            return nil
        }
        guard let i = value.int, i >= 0 else {
            errors.append((field, "expected a non-negative integer, got \(value)"))
            return nil
        }
        guard i <= max else {
            errors.append((field, "\(i) is over the largest value accepted (\(max))"))
            return nil
        }
        return i
    }

    /// A number from 0 to 1.
    mutating func fraction(_ name: String) -> Double? {
        guard let (field, value) = lookup(name, []) else { return nil }
        guard case .number(let n) = value, (0...1).contains(n) else {
            errors.append((field, "expected a number from 0 to 1, got \(value)"))
            return nil
        }
        return n
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
