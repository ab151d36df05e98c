import KitchenAppliancesPolicy
import Logging
import Testing
import WardenCore
import WardenDaemon
import WardenStore
import WardenTestKit

/// The store backends the engine tests run on: every test taking a `StoreBackend`
/// argument runs on both, so their behaviour cannot drift apart.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }

    /// The backends this machine can test: PostgreSQL only where its server programs
    /// are installed (the "PostgreSQL connection" suite says why it is skipped
    /// otherwise). A missing server leaves the argument out rather than cancelling the
    /// test, which would cancel its SQLite case too.
    static var here: [StoreBackend] { PostgresServer.unavailable == nil ? allCases : [.sqlite] }

    /// A store of this kind; `location` is a directory for SQLite and a database URL
    /// for PostgreSQL.
    func open(_ location: String) throws -> Store {
        switch self {
        case .sqlite: try Store(path: location + "/warden.sqlite")
        case .postgres: try Store(postgres: location, node: "test-node")
        }
    }
}

/// An engine on a real store (a SQLite file in a temp directory, or a fresh database on
/// the tests' PostgreSQL server), on a fake clock. `reopen()` simulates a restart: new
/// store connections, new engine, schedule loaded from the database.
final class EngineFixture: @unchecked Sendable {
    let dir: TemporaryDirectory
    let backend: StoreBackend
    /// Where the store is: `dir` for SQLite, the database's URL for PostgreSQL.
    let location: String
    let clock: FakeClock
    var store: Store
    var engine: Engine
    var deadlines: DeadlineService
    let settings: Engine.Settings

    static let opened = TimeFormat.parse("2023-04-05 09:30:00", defaultZone: .shanghai)!
    static let due = TimeFormat.parse("2023-04-06 09:30:00", defaultZone: .shanghai)!

    let windowSize: Int

    init(
        _ backend: StoreBackend = .sqlite, now: Timestamp = EngineFixture.opened + .minutes(1), policies: [String: PolicySettings] = [:],
        windowSize: Int = DeadlineService.defaultWindowSize
    ) throws {
        self.backend = backend
        self.windowSize = windowSize
        dir = try TemporaryDirectory(prefix: "warden-engine")
        switch backend {
        case .sqlite: location = dir.path
        case .postgres:
            location = try Self.postgresDatabase()
        }
        clock = FakeClock(now: now)
        settings = Engine.Settings(
            registry: try PolicyRegistry(registrations: [KitchenAppliances.registration], settings: policies), zone: .shanghai,
            warnBefore: [.hours(4), .hours(1)])
        (store, engine, deadlines) = try Self.open(backend, location, settings: settings, clock: clock, windowSize: windowSize)
    }

    /// A fresh database on the tests' PostgreSQL server.
    static func postgresDatabase() throws -> String {
        try PostgresServer.shared().freshDatabase()
    }

    static func open(_ backend: StoreBackend, _ location: String, settings: Engine.Settings, clock: FakeClock, windowSize: Int) throws -> (Store, Engine, DeadlineService) {
        let store = try backend.open(location)
        let logger = Logger(label: "test")
        let engine = Engine(store: store, settings: settings, clock: clock, logger: logger)
        let deadlines = DeadlineService(engine: engine, clock: clock, logger: logger, retryDelay: .seconds(1), windowSize: windowSize)
        return (store, engine, deadlines)
    }

    /// Like a restart: the old connections close before new ones open.
    func reopen() throws {
        try store.close()
        (store, engine, deadlines) = try Self.open(backend, location, settings: engine.settings, clock: clock, windowSize: windowSize)
    }

    deinit { dir.remove() }

    func records(_ texts: String...) throws -> [Record] {
        try texts.map { try engine.parser.parse(JSONParser.parse($0)).get() }
    }

    @discardableResult
    func ingest(_ texts: String...) async throws -> Engine.IngestReport {
        let records = try texts.map { try engine.parser.parse(JSONParser.parse($0)).get() }
        return try await engine.ingest(records, source: "test")
    }

    /// Runs SQL on the database behind the store's back (another program, or a hand
    /// edit), on a connection of its own.
    func rawExecute(_ sql: String) throws {
        switch backend {
        case .sqlite:
            let pool = try DatabasePool(path: location + "/warden.sqlite", configuration: Configuration())
            defer { try? pool.close() }
            try pool.writeWithoutTransaction { try $0.execute(sql: sql) }
        case .postgres:
            let c = try PGConnection(url: location)
            defer { c.close() }
            try c.execute(script: sql)
        }
    }

    /// The integer a query counts, read behind the store's back.
    func rawCount(_ sql: String) throws -> Int {
        switch backend {
        case .sqlite:
            let pool = try DatabasePool(path: location + "/warden.sqlite", configuration: Configuration())
            defer { try? pool.close() }
            return try pool.read { try Int.fetchOne($0, sql: sql) ?? -1 }
        case .postgres:
            let c = try PGConnection(url: location)
            defer { c.close() }
            return try c.scalar(sql, as: Int.self) ?? -1
        }
    }

    func caseRecord(_ id: String) throws -> CaseRecord? { try store.read { try $0.caseRecord(id: id) } }
    func ledger() throws -> [LedgerEntry] { try store.read { try $0.ledgerEntries(.init(), limit: 100, afterEntry: nil) } }
    func events(_ topic: String) throws -> Int { try store.read { try $0.eventCount(topic: topic) } }

    static let order = #"{"type":"order","order_id":"O1","category":"stand-mixer","paid_amount":"1299.00","paid_at":"2023-04-01 10:00:00","shop":"s1","delivery_service":"merchant"}"#
    static let complaint = #"{"type":"complaint","complaint_id":"C1","order_id":"O1","reason":"not-delivered-to-door","opened_at":"2023-04-05 09:30:00"}"#
    static func evidence(_ at: String) -> String {
        #"{"type":"evidence","complaint_id":"C1","submitted_at":"\#(at)","items":[{"kind":"delivery-photo","ref":"p.jpg"}]}"#
    }
}
