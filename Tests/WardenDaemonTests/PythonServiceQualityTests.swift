import Foundation
import Logging
import ServiceQualityPolicy
import Testing
import WardenCore
import WardenPlugin
import WardenPluginProtocol

/// The Python example module (Plugins/examples/service_quality.py) against the built-in
/// service-quality module: the same rule table (ServiceQualityTests' rows and more),
/// each row sent through the module protocol to the Python process and evaluated in
/// process, with the decisions compared exactly.
@Suite("Python service-quality example", .serialized)
struct PythonServiceQualityTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let example = repo + "/Plugins/examples/service_quality.py"

    /// month, ratings, satisfied, rounds, answered
    static let table: [(String, Int, Int, Int, Int)] = [
        ("2022-10", 25, 10, 200, 200),  // satisfaction not assessed
        ("2022-10", 45, 30, 200, 200),  // 66.7 %: fails, 4 points
        ("2022-10", 40, 40, 1100, 1000),  // 90.9 %: passes
        ("2022-10", 30, 21, 200, 200),  // exactly 70 %: passes
        ("2022-10", 30, 20, 200, 200),  // exactly 30 ratings: assessed, fails
        ("2022-10", 40, 40, 99, 0),  // 99 rounds: response not assessed
        ("2022-10", 40, 40, 1000, 899),  // 89.9 %: fails
        ("2022-10", 40, 0, 1000, 0),  // both fail: still 4 points
        ("2022-08", 45, 30, 200, 200),  // the trial: not assessed
        ("2022-09", 45, 30, 200, 200),  // the first assessed month
        ("2023-02", 3, 2, 3, 2),  // tiny samples
        ("2024-12", 1_000_000_000, 699_999_999, 1_000_000_000, 899_999_999),  // the largest counts, just failing
        ("2024-12", 1_000_000_000, 700_000_000, 1_000_000_000, 900_000_000),  // exactly at both thresholds
    ]

    static func record(_ row: (String, Int, Int, Int, Int)) -> JSON {
        [
            "type": "chat-metrics", "shop": "s1", "month": .string(row.0), "ratings": JSON(row.1), "satisfied_ratings": JSON(row.2),
            "rounds": JSON(row.3), "rounds_answered_within_3min": JSON(row.4),
        ]
    }

    @Test func theExampleGivesTheBuiltInDecisionsOnTheRuleTable() async throws {
        let module = PluginModule(
            id: "service-quality", settings: ExternalSettings(exec: Self.example, timeout: .seconds(10)), parameters: JSONObject(), zone: .shanghai,
            wardenVersion: "test", logger: Logger(label: "test"))
        let declaration = try await module.start().get()
        #expect(declaration.recordTypes.map(\.type) == [ChatMetrics.type])
        #expect(declaration.recordTypes.first == ChatMetrics.declaration)  // the same fields and key (cross checks aside)
        let builtin = ServiceQuality()
        let parser = RecordParser(zone: .shanghai, declarations: [ChatMetrics.type: ChatMetrics.declaration])
        let now = try #require(TimeFormat.parse("2025-01-01 00:00:00", defaultZone: .shanghai))
        var failing = 0
        for row in Self.table {
            let body = Self.record(row)
            let record = try parser.parse(body).get()
            let expected = builtin.evaluate(.record(record), facts: Facts(now: now)).map { PluginDecisions.json($0, zone: .shanghai) }
            let input: JSON = ["kind": "record", "record": body, "facts": ["now": .string(TimeFormat.format(now, in: .shanghai)), "order_cases": [], "records": []]]
            let answer = await module.evaluate([[input]])
            let decisions = try #require(try answer.first?.get().first?.get(), "row \(row)")
            let got = decisions.map { PluginDecisions.json($0, zone: .shanghai) }
            #expect(got.map { JSONWriter.string($0, sortedKeys: true) } == expected.map { JSONWriter.string($0, sortedKeys: true) }, "row \(row)")
            if !expected.isEmpty { failing += 1 }
        }
        #expect(failing == 6)  // the table holds failing and passing months both
        await module.stop()
    }
}
