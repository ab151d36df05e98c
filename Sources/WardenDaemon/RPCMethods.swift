#if canImport(Glibc)
import Glibc
#endif
import Logging
import WardenCore
import WardenMetrics
import WardenRPC
import WardenSpool
import WardenStore

/// The socket methods of SPEC.md §4, routed by name (`routes`). Reads answer from a
/// read snapshot on the server's reader pool (a cached `case.get` at once, on the
/// loop); writes (`evidence.submit`, `record.submit`, `daemon.reload`) are
/// deferred to async code and checked against the `AccessPolicy` first;
/// `event.subscribe` answers, then replays and follows events through the `EventBus`.
///
/// Trusts: the peer credentials from the kernel. Refuses: writers not in the access list
/// (`1004`, logged with the peer's uid and pid), unknown parameters and out-of-range
/// limits (`-32602`: nothing is silently capped), unknown event topics (`-32602`).
public final class RPCMethods: RPCDispatcher, Sendable {
    let engine: Engine
    let spool: SpoolDirectory
    let clock: any WardenClock
    let logger: Logger
    let access: Locked<AccessPolicy>
    let started = ContinuousClock.now
    let nextDeadline: @Sendable () -> (caseId: String, due: Timestamp)?
    let events: EventBus
    /// Serialized `case.get` answers (kept fresh by `Engine.onCasesChanged`); nil: every
    /// read goes to the store.
    let caseCache: CaseCache?
    /// The external modules' supervisor (their state in `policy.list`).
    let plugins: PluginHost?
    /// Counts every request by method and outcome, and times it (SPEC.md §8).
    let metrics: WardenMetrics?
    /// Renders the metrics for `metrics.get` (the same text as `GET /metrics`).
    let renderMetrics: Locked<(@Sendable () async -> [UInt8])?> = Locked(nil)

    public static let maxPage = 1000

    public init(
        engine: Engine, spool: SpoolDirectory, clock: any WardenClock, logger: Logger, access: AccessPolicy, events: EventBus,
        caseCache: CaseCache? = nil, plugins: PluginHost? = nil, metrics: WardenMetrics? = nil,
        nextDeadline: @escaping @Sendable () -> (caseId: String, due: Timestamp)?
    ) {
        self.engine = engine
        self.metrics = metrics
        self.plugins = plugins
        self.events = events
        self.caseCache = caseCache
        self.spool = spool
        self.clock = clock
        self.logger = logger
        self.access = Locked(access)
        self.nextDeadline = nextDeadline
    }

    public func updateAccess(_ policy: AccessPolicy) { access.value = policy }

    /// Set once the reloader exists (`daemon.reload`).
    let reload = Locked<(@Sendable () async -> Result<[String], ConfigErrors>)?>(nil)
    public func onReload(_ body: @escaping @Sendable () async -> Result<[String], ConfigErrors>) { reload.value = body }

    static let writers: Set<String> = ["evidence.submit", "record.submit", "daemon.reload"]

    /// How one method is answered.
    typealias Route = @Sendable (RPCMethods, RPCRequest, RPCConnection, Zone) -> RPCDispatch

    /// How a method is answered: a read with named parameters (checked against the
    /// method's description), or its own route (writes, subscriptions, the cached case).
    enum Answer: Sendable {
        case read(@Sendable (RPCMethods, Params) throws -> JSON)
        case custom(Route)
    }

    /// Every method the socket answers, from the one table that also describes them
    /// (`OpenRPC.methods`); anything else is `-32601`.
    static let routes: [String: Route] = Dictionary(
        uniqueKeysWithValues: OpenRPC.methods.map { m -> (String, Route) in
            switch m.answer {
            case .read(let body): (m.name, read(m.params.map(\.name), body))
            case .custom(let route): (m.name, route)
            }
        })

    /// The names of every method answered.
    public static var methodNames: Set<String> { Set(routes.keys) }

    /// What `rpc.discover` answers (an OpenRPC 1.2.6 document).
    public static var discoveryDocument: JSON { OpenRPC.document }

    /// A read from a snapshot, answered from the server's reader pool (off the event
    /// loops); parameters are checked first, on the loop.
    static func read(_ allowed: [String], _ body: @escaping @Sendable (RPCMethods, Params) throws -> JSON) -> Route {
        { m, request, _, zone in
            let params: Params
            do {
                params = try Params(request.params, zone: zone, allowed: allowed)
            } catch {
                return .immediate(.failure(m.map(error)))
            }
            return .offloaded { .immediate(m.runSync { () throws -> JSON in try body(m, params) }) }
        }
    }

    /// Set once the daemon can render its metrics (`metrics.get`).
    public func onMetrics(_ render: @escaping @Sendable () async -> [UInt8]) { renderMetrics.value = render }

    public func dispatch(_ request: RPCRequest, connection: RPCConnection) -> RPCDispatch {
        guard let metrics else { return route(request, connection: connection) }
        let started = ContinuousClock.now
        let method = request.method
        let done: @Sendable (RPCError?) -> Void = { error in
            let d = ContinuousClock.now - started
            let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            metrics.request(method: method, outcome: RPCOutcome.name(code: error?.code), seconds: seconds)
        }
        switch route(request, connection: connection) {
        case .immediate(let result):
            done(result.error)
            return .immediate(result)
        case .immediateText(let text):
            done(nil)
            return .immediateText(text)
        case .deferred(let body):
            return .deferred {
                let result = await body()
                done(result.error)
                return result
            }
        case .stream(let body):
            return .stream {
                let (result, followUp) = await body()
                done(result.error)
                return (result, followUp)
            }
        case .offloaded(let body):
            return .offloaded {
                let answer = body()
                if case .immediate(let result) = answer { done(result.error) } else { done(nil) }
                return answer
            }
        }
    }

    public func refused(method: String?, error: RPCError) {
        metrics?.refused(method: method.map { Self.routes[$0] == nil ? "other" : $0 } ?? "none", outcome: RPCOutcome.name(code: error.code))
    }

    func route(_ request: RPCRequest, connection: RPCConnection) -> RPCDispatch {
        guard let route = Self.routes[request.method] else { return .immediate(.failure(.methodNotFound(request.method))) }
        if Self.writers.contains(request.method) {
            let peer = connection.peer
            if !access.value.allows(peer) {
                logger.warning(
                    "Refused \(request.method) from an unauthorised peer",
                    metadata: ["warden.event": "access.denied", "warden.peer_uid": "\(peer.map { String($0.uid) } ?? "unknown")", "warden.peer_pid": "\(peer.map { String($0.pid) } ?? "unknown")", "warden.method": "\(request.method)"])
                return .immediate(.failure(.permissionDenied("\(request.method) is allowed to root, the daemon's user and [access] writers; uid \(peer.map { String($0.uid) } ?? "unknown") is none of these")))
            }
        }
        return route(self, request, connection, engine.settings.zone)
    }

    func daemonReload(_ request: RPCRequest, zone: Zone) -> RPCDispatch {
        do {
            _ = try Params(request.params, zone: zone, allowed: [])
        } catch {
            return .immediate(.failure(error))
        }
        return .deferred { [self] in
            guard let reload = reload.value else { return .failure(.internalError) }
            switch await reload() {
            case .success(let ids): return .success(["reloaded": true, "policies": .array(ids.map(JSON.string))])
            case .failure(let errors):
                let data: [JSON] = errors.errors.map { e in
                    var o: JSONObject = ["file": .string(e.file), "message": .string(e.message)]
                    if let l = e.line { o["line"] = JSON(l) }
                    if let k = e.key { o["key"] = .string(k) }
                    return .object(o)
                }
                return .failure(RPCError(code: 1005, message: "Validation failed: the configuration is invalid; the running one stays: \(errors.errors.first?.description ?? "")", data: ["errors": .array(data)]))
            }
        }
    }

    /// `event.subscribe {topics, since?}`: answers `{subscribed, seq}` (the newest stored
    /// `seq` now), replays stored events after `since` up to that `seq`, then goes live.
    func eventSubscribe(_ request: RPCRequest, connection: RPCConnection, zone: Zone) -> RPCDispatch {
        let topics: [String]
        var since: Int64?
        do {
            let p = try Params(request.params, zone: zone, allowed: ["topics", "since"])
            var seen: [String] = []
            for value in try p.array("topics") {
                guard case .string(let topic) = value else { throw RPCError.invalidParams("topics must be strings, got \(value.kindName)") }
                guard EventBus.topics.contains(topic) else {
                    throw RPCError.invalidParams("unknown topic \"\(topic)\"; expected \(EventBus.topics.joined(separator: ", "))")
                }
                if !seen.contains(topic) { seen.append(topic) }
            }
            guard !seen.isEmpty else { throw RPCError.invalidParams("topics must name at least one of \(EventBus.topics.joined(separator: ", "))") }
            topics = seen
            if let v = p.object["since"], !v.isNull {
                since = Int64(try p.int("since", default: 0, range: 0...(1 << 53)))
            }
        } catch {
            return .immediate(.failure(map(error)))
        }
        let bus = events
        let store = engine.store
        let from = since
        return .stream { [self] in
            guard let feed = connection.openFeed(capacity: bus.capacity) else {
                return (.failure(.wrongState("this connection already has a subscription; open another connection for other topics")), nil)
            }
            let subscriber = bus.subscribe(topics: Set(topics), feed: feed)
            let current: Int64
            do {
                current = try store.read { try $0.lastEventSeq() }
            } catch {
                bus.unsubscribe(subscriber)
                return (.failure(map(error)), nil)
            }
            if let from, from > current {
                bus.unsubscribe(subscriber)
                return (.failure(.invalidParams("since \(from) is after the newest event (seq \(current))")), nil)
            }
            let result: JSON = ["subscribed": .array(topics.map(JSON.string)), "seq": JSON(current)]
            return (
                .success(result),
                {
                    if let from {
                        _ = await bus.replay(subscriber, store: store, since: from, upTo: current)
                    } else {
                        bus.goLive(subscriber, after: current)
                    }
                }
            )
        }
    }

    /// `metrics.get`: the metrics in the Prometheus text format, as `GET /metrics` serves
    /// them (rendered off the event loop: it reads the store).
    func metricsGet(_ request: RPCRequest, zone: Zone) -> RPCDispatch {
        do {
            _ = try Params(request.params, zone: zone, allowed: [])
        } catch {
            return .immediate(.failure(map(error)))
        }
        guard let render = renderMetrics.value else { return .immediate(.failure(.internalError)) }
        return .deferred {
            let bytes = await render()
            return .success(["content_type": .string(WardenMetrics.contentType), "text": .string(String(decoding: bytes, as: UTF8.self))])
        }
    }

    // MARK: - Methods

    func status(_ p: Params) throws -> JSON {
        let (orders, cases, waiting, queues, nodes) = try engine.store.read { tx in
            (try tx.orderCounts(), try tx.caseCounts(), try tx.pendingCounts(), try tx.queueCounts(), try tx.nodes())
        }
        let counts = spool.counts()
        let now = clock.now()
        var next: JSON = .null
        if let n = nextDeadline() {
            next = ["case_id": .string(n.caseId), "due_at": .string(TimeFormat.format(n.due, in: p.zone)), "remaining_s": JSON((n.due - now).seconds)]
        }
        var status: JSONObject = [
            "version": .string(WardenVersion.string),
            "api": JSON(WardenVersion.api),
            "uptime_s": JSON(Int((ContinuousClock.now - started).components.seconds)),
            "storage": .string(engine.store.kind),
            "policies": .array(engine.settings.registry.enabledIds.map(JSON.string)),
            "spool": ["incoming": JSON(counts.incoming), "processed": JSON(counts.processed), "rejected": JSON(counts.rejected)],
            "orders": JSON(orders.total),
            "unmanaged_orders": JSON(orders.unmanaged),
            // Inputs not yet applied by each external module (queued or held), and of
            // them the held ones (failed twice; tried again on reload or restart).
            "records_waiting": .object(JSONObject(queues.map { ($0.module, JSON($0.waiting + $0.held)) })),
            "records_held": .object(JSONObject(queues.filter { $0.held > 0 }.map { ($0.module, JSON($0.held)) })),
            // Records stored that wait for the order or case they refer to, by type.
            "records_unreferenced": .object(JSONObject(waiting.map { ($0.type, JSON($0.count)) })),
            "cases": ["open": JSON(cases.open), "closed": JSON(cases.closed)],
            "next_deadline": next,
        ]
        if let node = engine.store.node {
            // SPEC §7: this node, and every node that shares the database.
            status["node"] = .string(node)
            status["nodes"] = .array(nodes.map { ["node": .string($0.node), "last_seen": .string(TimeFormat.format($0.lastSeen, in: p.zone))] })
        }
        return .object(status)
    }

    func policyList(_ p: Params) throws -> JSON {
        let entries = engine.settings.registry.entries.map { e -> JSON in
            // state: running | restarting | failed | disabled (SPEC.md §6); a built-in
            // module that loaded is running.
            var state = e.status == .enabled ? "running" : e.status.name
            var restarts = 0
            var error: String?
            if case .failed(let why) = e.status { error = why }
            if e.registration.origin == .external, e.status == .enabled, let s = plugins?.status(of: e.registration.id) {
                switch s.state {
                case .running: state = "running"
                case .starting, .restarting: state = "restarting"
                case .failed, .stopped: state = "failed"
                }
                restarts = s.restarts
                error = s.error
            }
            var o: JSONObject = [
                "id": .string(e.registration.id), "version": .string(e.registration.version), "origin": .string(e.registration.origin.rawValue),
                "categories": .array(e.registration.categories.map(JSON.string)), "enabled": .bool(e.status == .enabled),
                "status": .string(e.status.name), "state": .string(state), "restarts": JSON(restarts), "error": JSON(error),
                "summary": .string(e.registration.summary), "parameters": e.parameters.json,
                "record_types": .array(e.registration.recordTypes.map(\.json)),
            ]
            if e.registration.origin == .external, let pid = plugins?.status(of: e.registration.id)?.pid { o["pid"] = JSON(Int(pid)) }
            if let p = plugins?.settings(of: e.registration.id) {
                o["exec"] = .string(p.exec)
                o["timeout"] = .string(p.timeout.description)
            }
            return .object(o)
        }
        return ["policies": .array(entries)]
    }

    func orderGet(_ p: Params) throws -> JSON {
        let id = try p.requiredString("order_id")
        let zone = p.zone
        let registry = engine.settings.registry
        return try engine.store.read { tx -> JSON in
            guard let o = try Views.order(tx, id: id, registry: registry, zone: zone) else { throw RPCError.notFound("order \(id)") }
            let cases = try tx.caseIds(orderId: id).compactMap { try tx.caseRecord(id: $0)?.json(in: zone) }
            return ["order": .object(o), "cases": .array(cases)]
        }
    }

    /// `case.get`, from the cache when it holds the case (the hot path: no store read,
    /// no encoding), else from a read snapshot, remembered for next time.
    func caseGet(_ request: RPCRequest, zone: Zone) -> RPCDispatch {
        let id: String
        do {
            id = try Params(request.params, zone: zone, allowed: ["case_id"]).requiredString("case_id")
        } catch {
            return .immediate(.failure(error))
        }
        guard let cache = caseCache else {
            return .offloaded { [self] in .immediate(runSync { () throws -> JSON in try caseGet(id: id, zone: zone) }) }
        }
        if let text = cache.get(id, zone: zone) { return .immediateText(text) }
        return .offloaded { [self] in
            let generation = cache.current  // before the read: a write committing meanwhile voids it
            do {
                let text = JSONWriter.bytes(try caseGet(id: id, zone: zone))
                cache.store(id, zone: zone, bytes: text, generation: generation)
                return .immediateText(text)
            } catch {
                return .immediate(.failure(map(error)))
            }
        }
    }

    func caseGet(id: String, zone: Zone) throws -> JSON {
        FaultInjection.slowReadIfAsked(id)
        guard let c = try engine.store.readStatement({ try $0.caseRecord(id: id) }) else { throw RPCError.notFound("case \(id)") }
        return ["case": c.json(in: zone)]
    }

    func caseList(_ p: Params) throws -> JSON {
        var filter = StoreTransaction.CaseFilter()
        if let s = try p.string("state") {
            guard let state = CaseState(rawValue: s) else {
                throw RPCError.invalidParams("state \"\(s)\" is not one of \(CaseState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.state = state
        }
        if let c = try p.string("category") { filter.category = engine.settings.registry.moduleId(forCategory: c) ?? c }
        filter.shop = try p.string("shop")
        let limit = try p.int("limit", default: 100, range: 1...Self.maxPage)
        let cursor = try p.string("cursor")
        let cases = try engine.store.read { try $0.cases(filter, limit: limit + 1, after: cursor) }
        let page = cases.prefix(limit)
        return [
            "cases": .array(page.map { $0.json(in: p.zone) }),
            "next_cursor": cases.count > limit ? .string(page.last!.caseId) : .null,
        ]
    }

    func deadlineList(_ p: Params) throws -> JSON {
        let within = try p.int("within_s", default: 86_400, range: 0...(3650 * 86_400))
        let limit = try p.int("limit", default: 100, range: 1...Self.maxPage)
        let now = clock.now()
        let rows = try engine.store.read { try $0.upcomingDeadlines(now: now, within: .seconds(Int64(within)), limit: limit) }
        return [
            "deadlines": .array(
                rows.map {
                    [
                        "case_id": .string($0.caseId), "category": .string($0.category), "state": .string($0.state.rawValue),
                        "due_at": .string(TimeFormat.format($0.due, in: p.zone)), "remaining_s": JSON(($0.due - now).seconds),
                    ]
                })
        ]
    }

    func ledgerFilter(_ p: Params) throws -> StoreTransaction.LedgerFilter {
        var f = StoreTransaction.LedgerFilter(from: try p.time("from"), to: try p.time("to"))
        if p.object["shop"] != nil { f.shop = try p.string("shop") }
        if let c = try (p.object["category"] != nil ? p.string("category") : nil) {
            f.category = engine.settings.registry.moduleId(forCategory: c) ?? c
        }
        if p.object["case_id"] != nil { f.caseId = try p.string("case_id") }
        return f
    }

    func ledgerSummary(_ p: Params) throws -> JSON {
        let filter = try ledgerFilter(p)
        let totals = try engine.store.read { try $0.ledgerTotals(filter) }
        func json(_ t: StoreTransaction.Totals) -> JSON {
            ["amount": .string(t.amount.description), "points": JSON(t.points), "count": JSON(t.count)]
        }
        return [
            "amount": .string(totals.total.amount.description), "points": JSON(totals.total.points), "count": JSON(totals.total.count),
            "by_category": .object(JSONObject(totals.byCategory.map { ($0.0, json($0.1)) })),
            "by_rule": .object(JSONObject(totals.byRule.map { ($0.0, json($0.1)) })),
        ]
    }

    func ledgerList(_ p: Params) throws -> JSON {
        let filter = try ledgerFilter(p)
        let limit = try p.int("limit", default: 100, range: 1...Self.maxPage)
        var after: Int64?
        if let c = try p.string("cursor") {
            guard let row = StoreTransaction.entryRow(c) else { throw RPCError.invalidParams("cursor \"\(c)\" is not a ledger cursor") }
            after = row
        }
        let entries = try engine.store.read { try $0.ledgerEntries(filter, limit: limit + 1, afterEntry: after) }
        let page = entries.prefix(limit)
        return [
            "entries": .array(page.map { $0.json(in: p.zone) }),
            "next_cursor": entries.count > limit ? .string(page.last!.entryId) : .null,
        ]
    }

    func findingList(_ p: Params) throws -> JSON {
        let filter = StoreTransaction.FindingFilter(rule: try p.string("rule"), subject: try p.string("subject"))
        let limit = try p.int("limit", default: 100, range: 1...Self.maxPage)
        var after: Int64?
        if let c = try p.string("cursor") {
            guard c.first == "F", let row = Int64(c.dropFirst()) else { throw RPCError.invalidParams("cursor \"\(c)\" is not a finding cursor") }
            after = row
        }
        let findings = try engine.store.read { try $0.findings(filter, limit: limit + 1, after: after) }
        let page = findings.prefix(limit)
        return [
            "findings": .array(page.map { $0.json(in: p.zone) }),
            "next_cursor": findings.count > limit ? .string(page.last!.findingId) : .null,
        ]
    }

    /// `shop.get`: what every enabled policy says about the shop, evaluated now.
    func shopGet(_ p: Params) throws -> JSON {
        let shop = try p.requiredString("shop")
        let settings = engine.settings
        let parser = settings.parser
        let now = clock.now()
        // Each module sees the records of its own types keyed by the shop, and says what
        // it shows (luggage: original_design, L1–L5; service-quality: S1–S3 months).
        let keyed = settings.registry.declarations.values.filter { $0.key.first == "shop" }.map(\.type)
        let (known, views) = try engine.store.read { tx -> (Bool, [JSONObject]) in
            guard try tx.shopIsKnown(shop, keyedTypes: keyed) else { return (false, []) }
            var views: [JSONObject] = []
            for entry in settings.registry.entries where entry.status == .enabled {
                guard let policy = entry.policy else { continue }
                let records = try FactReader(tx: tx, now: now, parser: parser, module: policy.id).ownRecords(orderId: nil, shop: shop)
                views.append(policy.shopView(ShopFacts(shop: shop, records: records, now: now, zone: p.zone)))
            }
            return (true, views)
        }
        guard known else { throw RPCError.notFound("shop \(shop)") }
        var result: JSONObject = ["shop": .string(shop), "original_design": .null, "service_quality": .array([])]
        for view in views {
            for (key, value) in view.pairs { result[key] = value }
        }
        return .object(result)
    }

    func spoolRejected(_ p: Params) throws -> JSON {
        let limit = try p.int("limit", default: 100, range: 1...Self.maxPage)
        let rows = try engine.store.read { try $0.rejections(limit: limit) }
        return [
            "files": .array(
                rows.map { row in
                    ["file": .string(row.file), "at": .string(TimeFormat.format(row.at, in: p.zone)), "errors": (try? JSONParser.parse(row.errors)) ?? .array([])]
                })
        ]
    }

    func evidenceSubmit(_ params: JSONObject, zone: Zone) async throws -> JSON {
        let p = try Params(params, zone: zone, allowed: ["case_id", "items", "note"])
        let caseId = try p.requiredString("case_id")
        let note = try p.string("note")
        // Validate the items exactly as a spool evidence record would be.
        var probe = JSONObject()
        probe["type"] = "evidence"
        probe["complaint_id"] = .string(caseId)
        probe["submitted_at"] = .string(TimeFormat.format(clock.now(), in: .utc))
        probe["items"] = .array(try p.array("items"))
        guard case .success(let record) = engine.parser.parse(.object(probe)), case .evidence(let evidence) = record.payload else {
            if case .failure(let e) = engine.parser.parse(.object(probe)) { throw RPCError.validationFailed(e.errors) }
            throw RPCError.internalError
        }
        do {
            let updated = try await engine.submitEvidence(caseId: caseId, items: evidence.items, note: note)
            return ["case": updated.json(in: zone)]
        } catch let failure as Engine.Failure {
            switch failure {
            case .notFound(let what): throw RPCError.notFound(what)
            case .deadlinePassed(let why): throw RPCError.deadlinePassed(why)
            case .wrongState(let why): throw RPCError.wrongState(why)
            }
        }
    }

    func recordSubmit(_ params: JSONObject, zone: Zone) async throws -> JSON {
        let p = try Params(params, zone: zone, allowed: ["records"])
        let raw = try p.array("records")
        guard !raw.isEmpty else { throw RPCError.invalidParams("records must hold at least one record") }
        let parser = engine.parser
        var records: [Record] = []
        var errors: [RecordError] = []
        for (i, value) in raw.enumerated() {
            switch parser.parse(value, index: i + 1) {
            case .success(let r): records.append(r)
            case .failure(let e): errors += e.errors
            }
        }
        if !errors.isEmpty { throw RPCError.validationFailed(errors) }
        let report = try await engine.ingest(records, source: "socket:record.submit")
        return ["accepted": JSON(records.count), "new": JSON(report.new), "unchanged": JSON(report.unchanged), "updated": JSON(report.updated)]
    }

    // MARK: - Error mapping

    func runSync(_ body: () throws -> JSON) -> Result<JSON, RPCError> {
        do { return .success(try body()) } catch { return .failure(map(error)) }
    }

    func run(_ body: () async throws -> JSON) async -> Result<JSON, RPCError> {
        do { return .success(try await body()) } catch { return .failure(map(error)) }
    }

    func map(_ error: any Error) -> RPCError {
        if let e = error as? RPCError { return e }
        // The database unreachable (PostgreSQL down or restarting), busy or full: the
        // caller may retry; nothing was done.
        if Store.isEnvironmental(error) {
            logger.warning("Store unavailable answering a request", metadata: ["warden.event": "rpc.store_unavailable", "warden.error": "\(error)"])
            return .overloaded("the store is unavailable: \(error)")
        }
        logger.error("Internal error answering a request", metadata: ["warden.event": "rpc.internal_error", "warden.error": "\(error)"])
        return .internalError
    }
}

extension Result where Failure == RPCError {
    /// The error, if this is one.
    fileprivate var error: RPCError? {
        if case .failure(let e) = self { e } else { nil }
    }
}
