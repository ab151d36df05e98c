import Foundation
import Testing
import WardenStore
import WardenCore
import WardenDaemon

@Suite("Configuration")
struct ConfigLoaderTests {
    func parse(_ text: String) throws(ConfigErrors) -> WardenConfig {
        try ConfigLoader.parse(text, file: "warden.toml", registrations: BuiltinPolicies.all)
    }

    @Test func theDevelopmentConfigIsValid() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/warden.dev.toml").path
        let config = try ConfigLoader.load(path: path, registrations: BuiltinPolicies.all)
        #expect(config.socket.hasSuffix("/.warden/run/warden.sock"))
        #expect(config.socket.hasPrefix("/"))
        #expect(config.warnBefore == [.hours(4), .hours(1)])
        #expect(config.zone.identifier == "Asia/Shanghai")
    }

    @Test func defaultsApplyWhenKeysAreMissing() throws {
        let config = try parse("")
        #expect(config.socket == "/run/warden/warden.sock")
        #expect(config.spoolDir == "/var/spool/warden")
        #expect(config.stateDir == "/var/lib/warden")
        #expect(config.maxFileSize == 64 << 20)
        #expect(config.maxLine == 1 << 20)
    }

    @Test func everyErrorIsReportedWithItsLineAndKey() {
        let text = """
            [daemon]
            socket = "/tmp/x.sock"
            timezone = "Mars/Olympus"
            colour = "blue"

            [deadlines]
            warn_before = ["4h", "soon"]

            [policies.kitchen-appliances]
            compensation = "ten yuan"
            """
        do {
            _ = try parse(text)
            Issue.record("accepted an invalid config")
        } catch {
            let found = error.errors.map { "\($0.line ?? 0) \($0.key ?? "")" }
            #expect(found.contains("3 daemon.timezone"))
            #expect(found.contains("4 daemon.colour"))
            #expect(found.contains("7 deadlines.warn_before"))
            #expect(found.contains("10 policies.kitchen-appliances.compensation"))
            #expect(error.description.contains("warden.toml:10: policies.kitchen-appliances.compensation"))
        }
    }

    /// `[metrics] listen` of SPEC.md §8: an IP address (IPv6 in brackets) or localhost,
    /// and a port; anything else is an error that names the key.
    @Test(arguments: [
        ("127.0.0.1:9464", MetricsListen(host: "127.0.0.1", port: 9464)),
        ("[::1]:9464", MetricsListen(host: "::1", port: 9464)),
        ("localhost:1", MetricsListen(host: "localhost", port: 1)),
        ("0.0.0.0:65535", MetricsListen(host: "0.0.0.0", port: 65535)),
    ])
    func aMetricsAddressIsRead(text: String, expected: MetricsListen) throws {
        #expect(try parse("[metrics]\nlisten = \"\(text)\"\n").metricsListen == expected)
    }

    @Test(arguments: [
        "9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:+80", "127.0.0.1:99999999999999999999",
        "example.com:9464", "::1:9464", "[::1]9464", "[::1:9464", "[127.0.0.1]:9464", "256.0.0.1:9464", ":9464", "127.0.0.1:80 ",
    ])
    func aWrongMetricsAddressIsAnError(text: String) {
        #expect {
            try parse("[metrics]\nlisten = \"\(text)\"\n")
        } throws: { error in
            let e = (error as? ConfigErrors)?.errors.first
            return e?.key == "metrics.listen" && e?.line == 2
        }
    }

    @Test func metricsAreOffByDefault() throws {
        #expect(try parse("").metricsListen == nil)
    }

    /// The configuration of SPEC.md §1, verbatim.
    @Test func theSpecExampleIsAccepted() throws {
        let config = try parse("""
            [daemon]
            socket = "/run/warden/warden.sock"
            spool_dir = "/var/spool/warden"
            state_dir = "/var/lib/warden"
            timezone = "Asia/Shanghai"        # for times given without an offset

            [storage]
            backend = "sqlite"                # or "postgres", with url = "postgres://…"

            [deadlines]
            warn_before = ["4h", "1h"]        # deadline.warning events before each due time

            [policies.kitchen-appliances]     # one table per module; enabled = false unloads it
            enabled = true
            evidence_window = "24h"
            compensation = "10.00"

            [policies.model-toys]
            enabled = true
            action_window = "24h"
            max_ship_days = 120

            [policies.luggage]
            enabled = true
            evidence_window = "24h"

            [policies.service-quality]
            enabled = true
            """)
        #expect(config.policies.count == 4)
        #expect(config.policies["model-toys"]?.parameters["max_ship_days"] == .integer(120))
    }

    @Test(arguments: ["999999999999d", "99999999999999999999h", "1h-2m"])
    func absurdDurationsAreErrorsNotCrashes(value: String) {
        #expect(throws: ConfigErrors.self) { try parse("[policies.kitchen-appliances]\nevidence_window = \"\(value)\"\n") }
    }

    /// Issue 10: every number and duration is bounded, the error names the key and line.
    @Test(arguments: [
        ("[deadlines]\nwarn_before = [\"3651d\"]", "deadlines.warn_before"),
        ("[spool]\nrescan_interval = \"999999999d\"", "spool.rescan_interval"),
        ("[spool]\nprocessed_retention = \"3651d\"", "spool.processed_retention"),
        ("[spool]\nmax_file_size = 0", "spool.max_file_size"),
        ("[spool]\nmax_line = 9223372036854775807", "spool.max_line"),
        ("[socket]\nmax_connections = 2000000", "socket.max_connections"),
        ("[socket]\nmax_connections_per_uid = -1", "socket.max_connections_per_uid"),
        ("[socket]\nmax_in_flight = 65537", "socket.max_in_flight"),
        ("[policies.model-toys]\nmax_ship_days = 36501", "policies.model-toys.max_ship_days"),
        ("[policies.kitchen-appliances]\ncompensation = \"1000000000.01\"", "policies.kitchen-appliances.compensation"),
    ])
    func outOfRangeValuesAreRefusedNamingTheKey(text: String, key: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.errors.map(\.key) == [key], "\(error)")
            #expect(error.errors.first?.line == 2, "\(error)")
        }
    }

    /// SPEC §7's [storage] for PostgreSQL, and what is refused, naming the key.
    @Test func thePostgresStorageTableIsReadAndChecked() throws {
        let config = try parse("""
            [storage]
            backend = "postgres"
            url = "postgres://warden@db.internal/warden"   # or "postgresql:///warden?host=/run/postgresql"
            node = "seller-a-1"                            # default: the host name
            """)
        #expect(config.storageBackend == "postgres")
        #expect(config.storageURL == "postgres://warden@db.internal/warden")
        #expect(config.nodeName == "seller-a-1")
        // Without `node`, the host name (cut to a valid node name).
        let unnamed = try parse("[storage]\nbackend = \"postgres\"\nurl = \"postgresql:///w\"\n")
        #expect(WardenConfig.isValidNode(unnamed.nodeName), "\(unnamed.nodeName)")
        for (text, key) in [
            ("[storage]\nbackend = \"postgres\"", "storage.backend"),  // no url
            ("[storage]\nurl = \"postgres://x/y\"", "storage.url"),  // url without postgres
            ("[storage]\nbackend = \"mysql\"", "storage.backend"),
            ("[storage]\nbackend = \"postgres\"\nurl = \"\"", "storage.url"),
            ("[storage]\nbackend = \"postgres\"\nurl = \"postgres://x/y\"\nnode = \"a b\"", "storage.node"),
            ("[storage]\nbackend = \"postgres\"\nurl = \"postgres://x/y\"\nnode = \"\(String(repeating: "n", count: 65))\"", "storage.node"),
            ("[storage]\nbackend = \"postgres\"\nurl = \"postgres://x/y\"\nport = 5432", "storage.port"),
        ] {
            do {
                _ = try parse(text)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.errors.map(\.key).contains(key), "\(text): \(error)")
            }
        }
    }

    @Test func aPasswordIsLeftOutOfWhatIsPrinted() {
        #expect(Store.redacted("postgres://warden:s3cret@db.internal:5432/warden") == "postgres://warden:***@db.internal:5432/warden")
        #expect(Store.redacted("postgres://warden@db.internal/warden") == "postgres://warden@db.internal/warden")
        #expect(Store.redacted("host=db user=warden password=s3cret dbname=warden") == "host=db user=warden password=*** dbname=warden")
        #expect(Store.redacted("postgresql:///w?host=/run/postgresql") == "postgresql:///w?host=/run/postgresql")
        #expect(Store.redacted("postgresql://db/w?user=warden&password=s3cret&sslmode=require") == "postgresql://db/w?user=warden&password=***&sslmode=require")
    }

    @Test func theLargestValuesAreAccepted() throws {
        let config = try parse("[deadlines]\nwarn_before = [\"3650d\"]\n[socket]\nmax_in_flight = 65536\nmax_connections_per_uid = 10\n")
        #expect(config.warnBefore == [.days(3650)])
        #expect(config.maxInFlight == 65_536)
        #expect(config.maxConnectionsPerUID == 10)
    }

    @Test func aSyntaxErrorNamesItsLine() {
        do {
            _ = try parse("[daemon]\nsocket = \"unterminated\n")
            Issue.record("accepted broken TOML")
        } catch {
            #expect(error.errors.first?.line == 2)
        }
    }

    @Test func anUnknownPolicyIsAnError() {
        #expect(throws: ConfigErrors.self) { try parse("[policies.jewellery]\nenabled = true\n") }
    }
}
