import KitchenAppliancesPolicy
import Logging
import WardenCore
import WardenDaemon
import WardenStore
import WardenTestKit

/// An engine on a real SQLite file in a temp directory, on a fake clock. `reopen()`
/// simulates a restart: new store connection, new engine, schedule loaded from disk.
final class EngineFixture: @unchecked Sendable {
    let dir: TemporaryDirectory
    let clock: FakeClock
    var store: Store
    var engine: Engine
    var deadlines: DeadlineService
    let settings: Engine.Settings

    static let opened = TimeFormat.parse("2023-04-05 09:30:00", defaultZone: .shanghai)!
    static let due = TimeFormat.parse("2023-04-06 09:30:00", defaultZone: .shanghai)!

    let windowSize: Int

    init(now: Timestamp = EngineFixture.opened + .minutes(1), policies: [String: PolicySettings] = [:], windowSize: Int = DeadlineService.defaultWindowSize) throws {
        self.windowSize = windowSize
        dir = try TemporaryDirectory(prefix: "warden-engine")
        clock = FakeClock(now: now)
        settings = Engine.Settings(
            registry: try PolicyRegistry(registrations: [KitchenAppliances.registration], settings: policies), zone: .shanghai,
            warnBefore: [.hours(4), .hours(1)])
        (store, engine, deadlines) = try Self.open(dir: dir, settings: settings, clock: clock, windowSize: windowSize)
    }

    static func open(dir: TemporaryDirectory, settings: Engine.Settings, clock: FakeClock, windowSize: Int) throws -> (Store, Engine, DeadlineService) {
        let store = try Store(path: dir.path + "/warden.sqlite")
        let logger = Logger(label: "test")
        let engine = Engine(store: store, settings: settings, clock: clock, logger: logger)
        let deadlines = DeadlineService(engine: engine, clock: clock, logger: logger, retryDelay: .seconds(1), windowSize: windowSize)
        return (store, engine, deadlines)
    }

    /// Like a restart: the old connections close before new ones open.
    func reopen() throws {
        try store.close()
        (store, engine, deadlines) = try Self.open(dir: dir, settings: engine.settings, clock: clock, windowSize: windowSize)
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

    func caseRecord(_ id: String) throws -> CaseRecord? { try store.read { try $0.caseRecord(id: id) } }
    func ledger() throws -> [LedgerEntry] { try store.read { try $0.ledgerEntries(.init(), limit: 100, afterEntry: nil) } }
    func events(_ topic: String) throws -> Int { try store.read { try $0.eventCount(topic: topic) } }

    static let order = #"{"type":"order","order_id":"O1","category":"stand-mixer","paid_amount":"1299.00","paid_at":"2023-04-01 10:00:00","shop":"s1","delivery_service":"merchant"}"#
    static let complaint = #"{"type":"complaint","complaint_id":"C1","order_id":"O1","reason":"not-delivered-to-door","opened_at":"2023-04-05 09:30:00"}"#
    static func evidence(_ at: String) -> String {
        #"{"type":"evidence","complaint_id":"C1","submitted_at":"\#(at)","items":[{"kind":"delivery-photo","ref":"p.jpg"}]}"#
    }
}
