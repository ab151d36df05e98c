import WardenCore

/// The OpenRPC 1.2.6 document `rpc.discover` answers: every socket method with its named
/// parameters (JSON Schema), its result and the error codes it can answer, so scripts and
/// tools can check what they send against what the daemon accepts.
///
/// Built once from the `methods` table below, which is also the dispatcher's routing
/// table (`RPCMethods.routes`): one description per method, its parameters the names a
/// read accepts.
enum OpenRPC {
    struct Param {
        var name: String
        var required: Bool
        var schema: JSON
        var summary: String
    }

    struct Method {
        var name: String
        var summary: String
        var description: String
        var params: [Param]
        var result: JSON
        var errors: [Int]
        var extra: JSONObject = JSONObject()
        /// How the socket answers it: the same table describes and routes every method,
        /// so `rpc.discover` cannot drift from what is answered.
        var answer: RPCMethods.Answer

        init(name: String, summary: String, description: String, params: [Param], result: JSON, errors: [Int], extra: JSONObject = JSONObject(), answer: RPCMethods.Answer) {
            self.name = name
            self.summary = summary
            self.description = description
            self.params = params
            self.result = result
            self.errors = errors
            self.extra = extra
            self.answer = answer
        }
    }

    /// Codes every method may answer besides its own.
    static let commonErrors = [-32602, -32603, 1006]

    static let errorMessages: [Int: String] = [
        -32700: "Parse error", -32600: "Invalid Request", -32601: "Method not found", -32602: "Invalid params",
        -32603: "Internal error", 1001: "Not found", 1002: "Deadline passed", 1003: "Wrong state", 1004: "Permission denied",
        1005: "Validation failed", 1006: "Overloaded",
    ]

    static var methodNames: [String] { methods.map(\.name) }

    static let document: JSON = build()

    // MARK: - Schema helpers

    static func ref(_ name: String) -> JSON { ["$ref": .string("#/components/schemas/\(name)")] }
    static func string(_ description: String? = nil, format: String? = nil, pattern: String? = nil) -> JSON {
        var o: JSONObject = ["type": "string"]
        if let format { o["format"] = .string(format) }
        if let pattern { o["pattern"] = .string(pattern) }
        if let description { o["description"] = .string(description) }
        return .object(o)
    }
    static func integer(_ minimum: Int? = nil, _ maximum: Int? = nil, default value: Int? = nil) -> JSON {
        var o: JSONObject = ["type": "integer"]
        if let minimum { o["minimum"] = JSON(minimum) }
        if let maximum { o["maximum"] = JSON(maximum) }
        if let value { o["default"] = JSON(value) }
        return .object(o)
    }
    static func array(_ items: JSON, minItems: Int? = nil) -> JSON {
        var o: JSONObject = ["type": "array", "items": items]
        if let minItems { o["minItems"] = JSON(minItems) }
        return .object(o)
    }
    static func enumeration(_ values: [String]) -> JSON { ["type": "string", "enum": .array(values.map(JSON.string))] }
    static func nullable(_ schema: JSON) -> JSON { ["oneOf": [schema, ["type": "null"]]] }
    static func object(_ properties: [(String, JSON)], required: [String]? = nil, additional: Bool = true) -> JSON {
        var o: JSONObject = ["type": "object", "properties": .object(JSONObject(properties.map { (key: $0.0, value: $0.1) }))]
        o["required"] = .array((required ?? properties.map(\.0)).map(JSON.string))
        if !additional { o["additionalProperties"] = false }
        return .object(o)
    }
    static let time = string(format: "date-time")
    static let money = string("CNY, two decimals", pattern: "^-?[0-9]+\\.[0-9]{2}$")
    static let cursor = nullable(string("pass as `cursor` for the next page"))
    static let limit = Param(name: "limit", required: false, schema: integer(1, RPCMethods.maxPage, default: 100), summary: "page size")

    static let caseStates = CaseState.allCases.map(\.rawValue)

    static let schemas: [(String, JSON)] = [
        ("Time", string("RFC 3339, in daemon.timezone (e.g. 2023-04-06T09:30:00+08:00)", format: "date-time")),
        ("Money", money),
        (
            "EvidenceItem",
            object(
                [
                    ("kind", enumeration(EvidenceKind.allCases.map(\.rawValue))), ("ref", string("URI or path")),
                    ("sha256", string(pattern: "^[0-9a-fA-F]{64}$")), ("registered_at", time),
                ], required: ["kind", "ref"])
        ),
        (
            "Case",
            object([
                ("case_id", string()), ("order_id", string()), ("category", string("the owning policy module")),
                ("shop", nullable(string())), ("reason", string()), ("state", enumeration(caseStates)), ("opened_at", time),
                ("deadline", nullable(time)),
                (
                    "evidence",
                    array(
                        object(
                            [
                                ("kind", string()), ("ref", string()), ("sha256", string()), ("registered_at", time), ("submitted_at", time),
                                ("in_time", ["type": "boolean"]),
                            ], required: ["kind", "ref", "submitted_at", "in_time"]))
                ),
                ("liability", nullable(object([("amount", money), ("points", integer())]))),
                ("history", array(object([("at", time), ("state", enumeration(caseStates)), ("note", string())]))),
            ])
        ),
        (
            "LedgerEntry",
            object([
                ("entry_id", string()), ("case_id", nullable(string())), ("order_id", nullable(string())), ("shop", nullable(string())),
                ("category", string()), ("rule", string("e.g. K4, M1, S3")), ("amount", money), ("points", integer()), ("at", time),
                ("note", string()),
            ])
        ),
        (
            "Finding",
            object([
                ("finding_id", string()), ("rule", string()), ("subject", string("e.g. listing:L1, order:O1, shop:S")),
                ("severity", enumeration(["info", "warning", "violation"])), ("message", string()), ("at", time),
            ], required: ["finding_id", "rule", "subject", "severity", "message", "at"])
        ),
        (
            "Record",
            [
                "type": "object",
                "description": "a spool record (SPEC.md §2): ids and money are strings; type is one of the core's types or one an enabled module declares (policy.list record_types)",
                "properties": ["type": ["type": "string", "examples": .array(RecordType.builtin.map { .string($0.rawValue) })]], "required": ["type"],
            ]
        ),
        (
            "Event",
            [
                "type": "object",
                "description": "params of an `event` notification: the event's seq, topic, time and the ids it concerns; or {topic: \"lagged\", dropped, resume_since, at} once before a subscription ends for falling behind",
                "properties": [
                    "seq": integer(1), "topic": enumeration(EventBus.topics + ["lagged"]), "at": time, "case_id": string(), "order_id": string(),
                    "dropped": integer(1), "resume_since": integer(0),
                ],
                "required": ["topic", "at"],
            ]
        ),
    ]

    // MARK: - Methods

    static let methods: [Method] = [
        Method(
            name: "daemon.status", summary: "The daemon's version, storage, policies, spool and case counts, next deadline.",
            description: "", params: [],
            result: object([
                ("version", string()), ("api", integer()), ("uptime_s", integer(0)), ("storage", string()), ("policies", array(string())),
                ("spool", object([("incoming", integer(0)), ("processed", integer(0)), ("rejected", integer(0))])), ("orders", integer(0)),
                ("unmanaged_orders", integer(0)),
                ("records_waiting", ["type": "object", "description": "inputs each external module has not applied yet (queued or held), by module id", "additionalProperties": integer(0)]),
                ("records_held", ["type": "object", "description": "of those, held after failing twice (tried again on reload or restart), by module id", "additionalProperties": integer(0)]),
                ("records_unreferenced", ["type": "object", "description": "records stored that wait for the order or case they name, by type", "additionalProperties": integer(0)]),
                ("cases", object([("open", integer(0)), ("closed", integer(0))])),
                ("next_deadline", nullable(object([("case_id", string()), ("due_at", time), ("remaining_s", integer())]))),
            ]), errors: [],
            answer: .read { m, p in try m.status(p) }),
        Method(
            name: "policy.list", summary: "Every policy module, loaded or not, with its parameters.", description: "", params: [],
            result: object([
                (
                    "policies",
                    array(
                        object(
                            [
                                ("id", string()), ("version", string()), ("origin", enumeration(["builtin", "external"])), ("categories", array(string())),
                                ("enabled", ["type": "boolean"]), ("status", string()),
                                ("state", enumeration(["running", "restarting", "failed", "disabled"])), ("restarts", integer(0)),
                                ("summary", string()), ("parameters", ["type": "object"]),
                                ("record_types", array(object([("type", string()), ("key", array(string())), ("fields", ["type": "object"])]))),
                                ("error", nullable(string("why it failed, or its last fault"))),
                                ("exec", string("an external module's executable")), ("timeout", string("an external module's per-call timeout")),
                            ], required: ["id", "version", "origin", "categories", "enabled", "state", "restarts", "record_types", "parameters"]))
                )
            ]), errors: [],
            answer: .read { m, p in try m.policyList(p) }),
        Method(
            name: "order.get", summary: "One order with its ship deadline, negotiations and cases.", description: "",
            params: [Param(name: "order_id", required: true, schema: string(), summary: "the order id")],
            result: object([
                ("order", object([("order_id", string()), ("ship_deadline", nullable(time)), ("negotiations", array(["type": "object"]))])),
                ("cases", array(ref("Case"))),
            ]), errors: [1001],
            answer: .read { m, p in try m.orderGet(p) }),
        Method(
            name: "case.get", summary: "One case with its evidence and history.", description: "",
            params: [Param(name: "case_id", required: true, schema: string(), summary: "the case id (the complaint id)")],
            result: object([("case", ref("Case"))]), errors: [1001],
            answer: .custom { m, request, _, zone in m.caseGet(request, zone: zone) }),
        Method(
            name: "case.list", summary: "Cases in case_id order, filtered, a page at a time.", description: "",
            params: [
                Param(name: "state", required: false, schema: enumeration(caseStates), summary: "only cases in this state"),
                Param(name: "category", required: false, schema: string(), summary: "a policy id or a product category"),
                Param(name: "shop", required: false, schema: string(), summary: "only this shop's cases"), limit,
                Param(name: "cursor", required: false, schema: string(), summary: "next_cursor of the previous page"),
            ],
            result: object([("cases", array(ref("Case"))), ("next_cursor", cursor)]), errors: [],
            answer: .read { m, p in try m.caseList(p) }),
        Method(
            name: "deadline.list", summary: "Pending deadlines due within a window, soonest first.", description: "",
            params: [
                Param(name: "within_s", required: false, schema: integer(0, 3650 * 86_400, default: 86_400), summary: "window in seconds"),
                Param(name: "limit", required: false, schema: integer(1, RPCMethods.maxPage, default: 100), summary: "at most this many"),
            ],
            result: object([
                (
                    "deadlines",
                    array(object([("case_id", string()), ("category", string()), ("state", enumeration(caseStates)), ("due_at", time), ("remaining_s", integer())]))
                )
            ]), errors: [],
            answer: .read { m, p in try m.deadlineList(p) }),
        Method(
            name: "evidence.submit", summary: "Submit evidence for a case now (a writer).",
            description: "Allowed to root, the daemon's user and [access] writers (SO_PEERCRED).",
            params: [
                Param(name: "case_id", required: true, schema: string(), summary: "the case"),
                Param(name: "items", required: true, schema: array(ref("EvidenceItem"), minItems: 1), summary: "the evidence"),
                Param(name: "note", required: false, schema: string(), summary: "a note for the platform"),
            ],
            result: object([("case", ref("Case"))]), errors: [1001, 1002, 1003, 1004, 1005],
            answer: .custom { m, request, _, zone in .deferred { await m.run { () async throws -> JSON in try await m.evidenceSubmit(request.params, zone: zone) } } }),
        Method(
            name: "record.submit", summary: "Submit records as one transaction, validated like a spool file (a writer).",
            description: "All or nothing: any invalid record fails the call with 1005 and data.errors as in NAME.error.json.",
            params: [Param(name: "records", required: true, schema: array(ref("Record"), minItems: 1), summary: "the records")],
            result: object([("accepted", integer(1)), ("new", integer(0)), ("unchanged", integer(0)), ("updated", integer(0))]),
            errors: [1004, 1005],
            answer: .custom { m, request, _, zone in .deferred { await m.run { () async throws -> JSON in try await m.recordSubmit(request.params, zone: zone) } } }),
        Method(
            name: "ledger.summary", summary: "Ledger totals, by category and by rule.", description: "",
            params: [
                Param(name: "from", required: false, schema: time, summary: "inclusive"),
                Param(name: "to", required: false, schema: time, summary: "exclusive"),
                Param(name: "shop", required: false, schema: string(), summary: "only this shop"),
                Param(name: "category", required: false, schema: string(), summary: "a policy id or a product category"),
            ],
            result: object([
                ("amount", money), ("points", integer()), ("count", integer(0)),
                ("by_category", ["type": "object", "additionalProperties": object([("amount", money), ("points", integer()), ("count", integer(0))])]),
                ("by_rule", ["type": "object", "additionalProperties": object([("amount", money), ("points", integer()), ("count", integer(0))])]),
            ]), errors: [],
            answer: .read { m, p in try m.ledgerSummary(p) }),
        Method(
            name: "ledger.list", summary: "Ledger entries, oldest first, a page at a time.", description: "",
            params: [
                Param(name: "from", required: false, schema: time, summary: "inclusive"),
                Param(name: "to", required: false, schema: time, summary: "exclusive"),
                Param(name: "case_id", required: false, schema: string(), summary: "only this case's entries"), limit,
                Param(name: "cursor", required: false, schema: string(), summary: "next_cursor of the previous page"),
            ],
            result: object([("entries", array(ref("LedgerEntry"))), ("next_cursor", cursor)]), errors: [],
            answer: .read { m, p in try m.ledgerList(p) }),
        Method(
            name: "finding.list", summary: "Findings (rule breaches without a deadline), a page at a time.", description: "",
            params: [
                Param(name: "rule", required: false, schema: string(), summary: "e.g. K1, M4"),
                Param(name: "subject", required: false, schema: string(), summary: "e.g. listing:L1"), limit,
                Param(name: "cursor", required: false, schema: string(), summary: "next_cursor of the previous page"),
            ],
            result: object([("findings", array(ref("Finding"))), ("next_cursor", cursor)]), errors: [],
            answer: .read { m, p in try m.findingList(p) }),
        Method(
            name: "shop.get", summary: "A shop: original-design eligibility (L1-L5) and monthly service quality (S1-S3).",
            description: "", params: [Param(name: "shop", required: true, schema: string(), summary: "the shop name")],
            result: object([("shop", string()), ("original_design", nullable(["type": "object"])), ("service_quality", array(["type": "object"]))]),
            errors: [1001],
            answer: .read { m, p in try m.shopGet(p) }),
        Method(
            name: "spool.rejected", summary: "The latest files the spool rejected, with their errors.", description: "",
            params: [Param(name: "limit", required: false, schema: integer(1, RPCMethods.maxPage, default: 100), summary: "at most this many")],
            result: object([("files", array(object([("file", string()), ("at", time), ("errors", array(["type": "object"]))])))]), errors: [],
            answer: .read { m, p in try m.spoolRejected(p) }),
        Method(
            name: "event.subscribe", summary: "Follow events: the answer, then one `event` notification per event.",
            description:
                "With since, stored events after that seq are replayed first, then live ones, without gap or duplicate. One subscription per connection. A subscriber whose queue (1024 events) overflows gets one {topic: \"lagged\", dropped, resume_since} event and is unsubscribed; the connection stays open.",
            params: [
                Param(name: "topics", required: true, schema: ["type": "array", "items": enumeration(EventBus.topics), "minItems": 1, "uniqueItems": true], summary: "what to follow"),
                Param(name: "since", required: false, schema: integer(0), summary: "replay stored events after this seq first"),
            ],
            result: object([("subscribed", array(enumeration(EventBus.topics))), ("seq", integer(0))]), errors: [1003],
            extra: ["x-notification": ["method": "event", "params": ref("Event")]],
            answer: .custom { m, request, connection, zone in m.eventSubscribe(request, connection: connection, zone: zone) }),
        Method(
            name: "metrics.get", summary: "The metrics (SPEC.md §8) in the Prometheus text format, as GET /metrics serves them.",
            description: "Answered whether or not [metrics] listen is set.", params: [],
            result: object([("content_type", string("the Prometheus text format, version 0.0.4")), ("text", string("the exposition, one sample per line"))]),
            errors: [],
            answer: .custom { m, request, _, zone in m.metricsGet(request, zone: zone) }),
        Method(
            name: "rpc.discover", summary: "This document.", description: "", params: [],
            result: ["$ref": "https://raw.githubusercontent.com/open-rpc/meta-schema/master/schema.json"], errors: [],
            answer: .read { _, _ in OpenRPC.document }),
        Method(
            name: "daemon.reload", summary: "Reload the configuration file, as SIGHUP does (a writer).",
            description: "An invalid file is refused with 1005 and data.errors; the running configuration stays.", params: [],
            result: object([("reloaded", ["type": "boolean", "const": true]), ("policies", array(string()))]), errors: [1004, 1005],
            answer: .custom { m, request, _, zone in m.daemonReload(request, zone: zone) }),
    ]

    static func build() -> JSON {
        let methods = methods.map { m -> JSON in
            var o: JSONObject = ["name": .string(m.name), "summary": .string(m.summary)]
            if !m.description.isEmpty { o["description"] = .string(m.description) }
            o["paramStructure"] = "by-name"
            o["params"] = .array(
                m.params.map { p in
                    ["name": .string(p.name), "summary": .string(p.summary), "required": .bool(p.required), "schema": p.schema]
                })
            o["result"] = ["name": .string(String(m.name.map { $0 == "." ? "_" : $0 }) + "_result"), "schema": m.result]
            let codes = (m.errors + commonErrors).sorted().reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
            o["errors"] = .array(codes.map { ["code": JSON($0), "message": .string(errorMessages[$0] ?? "")] })
            for (k, v) in m.extra.pairs { o[k] = v }
            return .object(o)
        }
        return [
            "openrpc": "1.2.6",
            "info": [
                "title": "wardend", "version": .string(WardenVersion.string),
                "description": "Warden's control socket: line-delimited JSON-RPC 2.0 on a Unix stream socket (SPEC.md §4). Notifications from the server have no id: {\"jsonrpc\": \"2.0\", \"method\": \"event\", \"params\": {…}}.",
            ],
            "methods": .array(methods),
            "components": ["schemas": .object(JSONObject(schemas.map { (key: $0.0, value: $0.1) }))],
        ]
    }
}
