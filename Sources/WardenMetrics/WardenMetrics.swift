import Prometheus

/// Warden's metrics (SPEC.md §8), kept in a Prometheus collector registry and rendered
/// in the Prometheus text format for `GET /metrics` and the `metrics.get` socket method.
///
/// Trusts: its callers to pass label values from bounded sets (record types and module
/// ids from the configuration, rules and categories from the modules, method names from
/// the routing table). Refuses: ids in labels — no method here takes an order or case
/// id, and an unknown socket method is counted as `other`, so a client cannot grow the
/// output by inventing method names.
///
/// Counters only ever grow while the daemon runs; gauges (open cases, pending deadlines,
/// subscribers, connections, module state) are read at each scrape by `collect`.
public final class WardenMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    /// Socket methods known in advance (the routing table); their series exist from the
    /// start, so a dashboard sees zeros rather than gaps.
    let methods: [String: MethodSeries]
    let otherMethod: MethodSeries
    let fireLag: Histogram<Double>
    let warningLag: Histogram<Double>

    /// Bucket bounds (seconds) for socket request durations: 50 µs to 5 s.
    public static let requestBuckets: [Double] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
    /// Bucket bounds (seconds) for deadline fire lag: 10 ms to an hour (a deadline that
    /// passed while the daemon was stopped fires late by the length of the stop).
    public static let lagBuckets: [Double] = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600]
    /// Bucket bounds (seconds) for a round of `evaluate` calls to an external module.
    public static let pluginBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    /// - Parameters:
    ///   - version: for `warden_build_info`.
    ///   - methods: the socket methods answered (each gets its series up front).
    ///   - startTime: seconds since the epoch when the process started.
    public init(version: String, methods: [String], startTime: Double, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        registry.makeGauge(descriptor: Self.family("warden_build_info", "Always 1; the version of the running wardend."), labels: [("version", version)]).set(to: 1)
        registry.makeGauge(descriptor: Self.family("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.")).set(to: startTime)
        var series: [String: MethodSeries] = [:]
        for method in methods {
            series[method] = MethodSeries(registry, method)
        }
        self.methods = series
        otherMethod = MethodSeries(registry, "other")
        fireLag = registry.makeValueHistogram(descriptor: Self.family("warden_deadline_fire_lag_seconds", "From the time a deadline or warning was due to the transaction that fired it, in seconds."), labels: [("kind", "expiry")], buckets: Self.lagBuckets)
        warningLag = registry.makeValueHistogram(descriptor: Self.family("warden_deadline_fire_lag_seconds", "From the time a deadline or warning was due to the transaction that fired it, in seconds."), labels: [("kind", "warning")], buckets: Self.lagBuckets)
    }

    /// A method's duration histogram and its `ok` counter, made once (the hot path).
    struct MethodSeries: Sendable {
        let name: String
        let duration: Histogram<Double>
        /// Nil for `other` (an unknown method is never answered `ok`).
        let ok: Counter?

        init(_ registry: PrometheusCollectorRegistry, _ method: String) {
            name = method
            duration = registry.makeValueHistogram(descriptor: WardenMetrics.family("warden_rpc_request_duration_seconds", "Time from a socket request being read to its answer being ready, in seconds, by method."), labels: [("method", method)], buckets: WardenMetrics.requestBuckets)
            ok = method == "other" ? nil : WardenMetrics.requestCounter(registry, method, "ok")
        }
    }

    static func requestCounter(_ registry: PrometheusCollectorRegistry, _ method: String, _ outcome: String) -> Counter {
        registry.makeCounter(descriptor: Self.family("warden_rpc_requests_total", "Socket requests answered, by method and outcome."), labels: [("method", method), ("outcome", outcome)])
    }

    // MARK: - Ingest and the spool

    /// Records applied, by record type.
    public func recordsIngested(_ counts: [String: Int]) {
        for (type, n) in counts where n > 0 {
            registry.makeCounter(descriptor: Self.family("warden_records_ingested_total", "Records applied, by record type (spool files and record.submit)."), labels: [("type", type)])
                .increment(by: Int64(n))
        }
    }

    /// Spool files settled: `processed`, `rejected` or `quarantined`.
    public func spoolFiles(_ outcome: String, _ n: Int = 1) {
        guard n > 0 else { return }
        registry.makeCounter(descriptor: Self.family("warden_spool_files_total", "Spool files settled, by outcome (processed, rejected, quarantined)."), labels: [("outcome", outcome)])
            .increment(by: Int64(n))
    }

    // MARK: - Deadlines, penalties, findings

    /// How late an expiry (or a warning) fired, in seconds.
    public func fired(lag: Double, warning: Bool) {
        (warning ? warningLag : fireLag).record(max(lag, 0))
    }

    /// `count` ledger entries booked under one category and rule: `amountFen` their
    /// money in fen (0.01 yuan), `points` their points, summed. Counters only go up: a
    /// negative sum (no rule books one) counts as nothing rather than trapping.
    public func booked(category: String, rule: String, count: Int = 1, amountFen: Int64, points: Int64) {
        let labels = [("category", category), ("rule", rule)]
        registry.makeCounter(descriptor: Self.family("warden_penalties_total", "Ledger entries booked, by category and rule."), labels: labels).increment(by: Int64(max(count, 0)))
        registry.makeCounter(descriptor: Self.family("warden_penalty_amount_yuan_total", "Money booked in the ledger, in yuan, by category and rule."), labels: labels)
            .increment(by: Double(max(amountFen, 0)) / 100)
        registry.makeCounter(descriptor: Self.family("warden_penalty_points_total", "Points deducted in the ledger, by category and rule."), labels: labels)
            .increment(by: max(points, 0))
    }

    /// A finding recorded (a rule breach without a deadline).
    public func finding(rule: String) {
        registry.makeCounter(descriptor: Self.family("warden_findings_total", "Findings recorded, by rule."), labels: [("rule", rule)]).increment()
    }

    // MARK: - The socket

    /// One socket request answered: `outcome` is `ok` or the error's name
    /// (`RPCOutcome.name(code:)`).
    public func request(method: String, outcome: String, seconds: Double) {
        let series = methods[method] ?? otherMethod
        series.duration.record(seconds)
        if outcome == "ok", let ok = series.ok {
            ok.increment()
        } else {
            Self.requestCounter(registry, series.name, outcome).increment()
        }
    }

    /// A request the server refused before it reached a method (not JSON, not a request,
    /// too long, over a limit): counted, not timed. `method` is `none` when there was no
    /// valid request.
    public func refused(method: String, outcome: String) {
        Self.requestCounter(registry, method, outcome).increment()
    }

    // MARK: - External modules

    /// One round of `calls` pipelined `evaluate` calls to an external module.
    public func pluginRound(module: String, calls: Int, seconds: Double) {
        registry.makeCounter(descriptor: Self.family("warden_plugin_calls_total", "evaluate calls sent to an external module."), labels: [("module", module)])
            .increment(by: Int64(calls))
        registry.makeValueHistogram(descriptor: Self.family("warden_plugin_round_duration_seconds", "Time for one round of pipelined evaluate calls to an external module, in seconds."), labels: [("module", module)], buckets: Self.pluginBuckets).record(seconds)
    }

    /// `n` calls to an external module failed, or answered what could not be applied:
    /// `kind` is timeout, exited, garbage, error or invalid.
    public func pluginFailed(module: String, kind: String, _ n: Int = 1) {
        guard n > 0 else { return }
        registry.makeCounter(
            descriptor: Self.family(
                "warden_plugin_failures_total",
                "Failed evaluate calls to an external module, and answers that could not be applied, by kind (timeout, exited, garbage, error, invalid)."),
            labels: [("module", module), ("kind", kind)]
        ).increment(by: Int64(n))
    }

    /// An external module restarted `n` times.
    public func pluginRestarted(module: String, _ n: Int = 1) {
        guard n > 0 else { return }
        registry.makeCounter(descriptor: Self.family("warden_plugin_restarts_total", "Restarts of an external module after a fault."), labels: [("module", module)])
            .increment(by: Int64(n))
    }

    // MARK: - Gauges, read at scrape time

    /// What the daemon reports at each scrape.
    public struct Snapshot: Sendable {
        public var openCases = 0
        public var closedCases = 0
        public var pendingDeadlines = 0
        public var subscribers = 0
        public var connections = 0
        public var spoolIncoming = 0
        /// External modules: whether each is running, and its inputs not applied yet.
        public var modules: [(id: String, up: Bool, waiting: Int, held: Int)] = []
        public init() {}
    }

    /// Sets the scrape-time gauges and renders everything in the text format.
    public func render(_ snapshot: Snapshot) -> [UInt8] {
        let cases = "Cases in the store, by whether they are open."
        registry.makeGauge(descriptor: Self.family("warden_cases", cases), labels: [("state", "open")]).set(to: Double(snapshot.openCases))
        registry.makeGauge(descriptor: Self.family("warden_cases", cases), labels: [("state", "closed")]).set(to: Double(snapshot.closedCases))
        registry.makeGauge(descriptor: Self.family("warden_deadlines_pending", "Deadlines not yet fired or cancelled.")).set(to: Double(snapshot.pendingDeadlines))
        registry.makeGauge(descriptor: Self.family("warden_subscribers", "Connections following events (event.subscribe).")).set(to: Double(snapshot.subscribers))
        registry.makeGauge(descriptor: Self.family("warden_socket_connections", "Open connections to the control socket.")).set(to: Double(snapshot.connections))
        registry.makeGauge(descriptor: Self.family("warden_spool_incoming_files", "Files waiting in the spool's incoming/ directory.")).set(to: Double(snapshot.spoolIncoming))
        for m in snapshot.modules {
            registry.makeGauge(descriptor: Self.family("warden_plugin_up", "1 while an external module is running, 0 while it restarts, failed or is disabled."), labels: [("module", m.id)])
                .set(to: m.up ? 1 : 0)
            let waiting = "Inputs an external module has not applied yet, by module and whether they are held after failing."
            registry.makeGauge(descriptor: Self.family("warden_plugin_inputs_waiting", waiting), labels: [("module", m.id), ("held", "false")]).set(to: Double(m.waiting))
            registry.makeGauge(descriptor: Self.family("warden_plugin_inputs_waiting", waiting), labels: [("module", m.id), ("held", "true")]).set(to: Double(m.held))
        }
        return registry.emitToBuffer()
    }

    /// A metric's full name and help text (every name is written out whole here, so a
    /// search for it finds its definition).
    static func family(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The content type of `render`'s output.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}

/// The `outcome` label of a socket request.
public enum RPCOutcome {
    /// `ok`, or a name for a JSON-RPC error code (SPEC.md §4); unknown codes are `error`.
    public static func name(code: Int?) -> String {
        guard let code else { return "ok" }
        switch code {
        case -32700: return "parse_error"
        case -32600: return "invalid_request"
        case -32601: return "method_not_found"
        case -32602: return "invalid_params"
        case -32603: return "internal_error"
        case 1001: return "not_found"
        case 1002: return "deadline_passed"
        case 1003: return "wrong_state"
        case 1004: return "permission_denied"
        case 1005: return "validation_failed"
        case 1006: return "overloaded"
        default: return "error"
        }
    }
}
