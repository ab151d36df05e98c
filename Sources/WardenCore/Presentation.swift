/// The JSON shapes of SPEC.md §3–4, in one place so the socket, events and `wardenctl`
/// agree. Times are written in the daemon's zone (RFC 3339 with offset), money as
/// decimal strings.

extension CaseRecord {
    public func json(in zone: Zone) -> JSON {
        [
            "case_id": .string(caseId),
            "order_id": .string(orderId),
            "category": .string(category),
            "shop": JSON(shop),
            "reason": .string(reason.rawValue),
            "state": .string(state.rawValue),
            "opened_at": .string(TimeFormat.format(openedAt, in: zone)),
            "deadline": deadline.map { .string(TimeFormat.format($0, in: zone)) } ?? .null,
            "evidence": .array(evidence.map { $0.json(in: zone) }),
            "liability": liability.map { ["amount": .string($0.amount.description), "points": JSON($0.points)] } ?? .null,
            "history": .array(
                history.map {
                    ["at": .string(TimeFormat.format($0.at, in: zone)), "state": .string($0.state.rawValue), "note": .string($0.note)]
                }),
        ]
    }
}

extension CaseRecord.EvidenceEntry {
    public func json(in zone: Zone) -> JSON {
        var o = JSONObject()
        o["kind"] = .string(item.kind.rawValue)
        o["ref"] = .string(item.ref)
        if let sha = item.sha256 { o["sha256"] = .string(sha) }
        if let r = item.registeredAt { o["registered_at"] = .string(TimeFormat.format(r, in: zone)) }
        o["submitted_at"] = .string(TimeFormat.format(submittedAt, in: zone))
        o["in_time"] = .bool(inTime)
        return .object(o)
    }
}

extension LedgerEntry {
    public func json(in zone: Zone) -> JSON {
        [
            "entry_id": .string(entryId),
            "case_id": JSON(caseId),
            "order_id": JSON(orderId),
            "shop": JSON(shop),
            "category": .string(category),
            "rule": .string(rule),
            "amount": .string(amount.description),
            "points": JSON(points),
            "at": .string(TimeFormat.format(at, in: zone)),
            "note": .string(note),
        ]
    }
}

extension Finding {
    public func json(in zone: Zone) -> JSON {
        [
            "finding_id": .string(findingId),
            "rule": .string(rule),
            "subject": .string(subject),
            "severity": .string(severity.rawValue),
            "message": .string(message),
            "at": .string(TimeFormat.format(at, in: zone)),
        ]
    }
}

extension Order {
    /// The order's normalised fields (the stored record's unknown fields are merged in by
    /// `order.get`).
    public func json(in zone: Zone) -> JSONObject {
        var o = JSONObject()
        o["order_id"] = .string(orderId)
        o["category"] = .string(category)
        o["paid_amount"] = .string(paidAmount.description)
        o["paid_at"] = .string(TimeFormat.format(paidAt, in: zone))
        o["shop"] = JSON(shop)
        o["item"] = JSON(item)
        o["ship_by"] = shipBy.map { .string(TimeFormat.format($0, in: zone)) } ?? .null
        o["shipped_at"] = shippedAt.map { .string(TimeFormat.format($0, in: zone)) } ?? .null
        o["delivery_service"] = JSON(deliveryService?.rawValue)
        o["presale"] = presale.map(JSON.bool) ?? .null
        return o
    }
}
