import Logging
import WardenCore
import WardenPlugin
import WardenPluginProtocol

/// `wardend plugin check --exec PATH`: runs a module the way the daemon would and
/// reports, line by line, what it declares and whether it keeps the protocol: the
/// handshake, the declared record types and parameters (against the given values),
/// a few inputs (an order, a complaint and a deadline per category, and a record of
/// each declared type when it can make one), and a clean `shutdown`.
public enum PluginChecker {
    public struct Report: Sendable {
        public var lines: [String] = []
        public var ok = true
        mutating func pass(_ s: String) { lines.append("ok    " + s) }
        mutating func fail(_ s: String) {
            lines.append("FAIL  " + s)
            ok = false
        }
        mutating func info(_ s: String) { lines.append("      " + s) }
    }

    public static func check(id: String, settings: ExternalSettings, parameters: [String: RawParameter], zone: Zone, logger: Logger) async -> Report {
        var report = Report()
        let module = PluginModule(
            id: id, settings: settings, parameters: JSONObject(parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) }),
            zone: zone, wardenVersion: WardenVersion.string, logger: logger)
        let declaration: PluginDeclaration
        switch await module.start() {
        case .failure(let e):
            report.fail("handshake: \(e)")
            return report
        case .success(let d):
            declaration = d
            report.pass("handshake: \(d.name) \(d.version), protocol \(PluginProtocol.version)")
        }
        report.info("categories: \(declaration.categories.isEmpty ? "none (a shop-wide module: only its own record types)" : declaration.categories.joined(separator: ", "))")
        for t in declaration.recordTypes {
            report.info("record type \(t.type): key \(t.key.joined(separator: "+")); fields \(t.fields.map { "\($0.name) (\($0.field.kind)\($0.field.required ? ", required" : ""))" }.joined(separator: ", "))")
        }
        for p in declaration.parameters {
            report.info("parameter \(p.name) (\(p.kind.specName))\(p.isRequired ? ", required" : ", default \(JSONWriter.string(p.defaultValue.json))"): \(p.summary)")
        }
        var registration = PolicyRegistration(
            id: id, version: declaration.version, categories: declaration.categories, summary: declaration.name, parameters: declaration.parameters,
            make: { _ in ExternalPolicy(id: id) })
        registration.origin = .external
        registration.recordTypes = declaration.recordTypes
        let builtinCategories = Set(BuiltinPolicies.all.filter { $0.id != id }.flatMap(\.categories))
        for c in declaration.categories where builtinCategories.contains(c) {
            report.info("note: category \(c) is also a built-in module's; the daemon refuses the second owner of a category")
        }
        if let registry = try? PolicyRegistry(registrations: [registration], settings: [id: PolicySettings(parameters: parameters)]),
            case .failed(let why) = registry.entries[0].status
        {
            report.fail("parameters: \(why)")
        } else {
            report.pass("parameters: \(parameters.isEmpty ? "defaults" : parameters.keys.sorted().joined(separator: ", ")) accepted")
        }

        // A few inputs per category, on facts as the daemon would send them.
        let now = SystemClock().now()
        let t = { (ts: Timestamp) -> JSON in .string(TimeFormat.format(ts, in: zone)) }
        var inputs: [(String, JSON)] = []
        for (n, category) in declaration.categories.prefix(4).enumerated() {
            let orderId = "CHECK-O\(n)"
            let order: JSONObject = [
                "type": "order", "order_id": .string(orderId), "category": .string(category), "paid_amount": "100.00", "paid_at": t(now - .hours(48)),
                "shop": "check-shop", "delivery_service": "merchant",
            ]
            var orderView = order
            orderView["type"] = nil
            orderView["ship_deadline"] = .null
            orderView["negotiations"] = []
            orderView["managed_by"] = .string(id)
            let complaint: JSONObject = [
                "type": "complaint", "complaint_id": .string("CHECK-C\(n)"), "order_id": .string(orderId), "reason": "not-delivered-to-door", "opened_at": t(now - .hours(1)),
            ]
            let facts: JSON = ["now": t(now), "order": .object(orderView), "order_cases": [], "records": []]
            inputs.append(("order \(orderId) (\(category))", ["kind": "record", "record": .object(order), "facts": facts]))
            inputs.append(("complaint CHECK-C\(n)", ["kind": "record", "record": .object(complaint), "facts": facts]))
            let caseJSON: JSON = [
                "case_id": .string("CHECK-C\(n)"), "order_id": .string(orderId), "category": .string(id), "shop": "check-shop", "reason": "not-delivered-to-door",
                "state": "awaiting-evidence", "opened_at": t(now - .hours(25)), "deadline": t(now - .hours(1)), "evidence": [], "liability": .null, "history": [],
            ]
            inputs.append((
                "deadline of case CHECK-C\(n)",
                ["kind": "deadline", "case_id": .string("CHECK-C\(n)"), "due_at": t(now - .hours(1)), "facts": ["now": t(now), "order": .object(orderView), "case": caseJSON, "order_cases": [caseJSON], "records": []]]
            ))
        }
        // A record of each declared type, with a plausible value of each field's kind.
        for declared in declaration.recordTypes {
            var record: JSONObject = ["type": .string(declared.type.rawValue)]
            for (name, field) in declared.fields {
                let value: JSON =
                    switch field.kind {
                    case .id: "CHECK-1"
                    case .string: "check"
                    case .integer, .count: 1
                    case .boolean: true
                    case .money: "1.00"
                    case .duration: "1h"
                    case .time: t(now - .hours(1))
                    case .month: .string(String(TimeFormat.date(now, in: zone).prefix(7)))
                    case .fraction: 0.5
                    case .enumeration(let values): .string(values[0])
                    }
                record[name] = value
            }
            inputs.append(("record of type \(declared.type)", ["kind": "record", "record": .object(record), "facts": ["now": t(now), "order_cases": [], "records": []]]))
        }
        for (label, input) in inputs {
            let answer = await module.evaluate([[input]])
            switch answer.first {
            case .success(let results)?:
                switch results[0] {
                case .success(let decisions):
                    let kinds = decisions.map { PluginDecisions.json($0, zone: zone).object?.keys.first ?? "?" }
                    report.pass("evaluate \(label): \(decisions.isEmpty ? "no decisions" : kinds.joined(separator: ", "))")
                case .failure(let e):
                    report.fail("evaluate \(label): \(e.message)")
                }
            case .failure(.error(let code, let message))? where label.hasPrefix("record of type"):
                // The sample is made from the declared kinds alone; a check across its
                // fields may refuse it. Said, not failed.
                report.info("evaluate \(label): the module refused the sample record (\(code): \(message))")
                _ = await module.restart(after: .error(code: code, message: message))
            case .failure(let fault)?:
                report.fail("evaluate \(label): \(fault)")
                if !(await module.restart(after: fault)) {
                    report.fail("the module could not be restarted: \(module.currentStatus.error ?? "")")
                    return report
                }
            case nil:
                report.fail("evaluate \(label): no answer")
            }
        }
        let clock = ContinuousClock()
        let started = clock.now
        await module.stop()
        let took = clock.now - started
        if took < .seconds(5) {
            report.pass("shutdown: exited after \(took.components.seconds * 1000 + took.components.attoseconds / 1_000_000_000_000_000) ms")
        } else {
            report.fail("shutdown: did not exit within 5 s of shutdown (it was sent SIGTERM)")
        }
        return report
    }
}
