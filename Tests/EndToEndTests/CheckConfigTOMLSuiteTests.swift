import Foundation
import Testing
import WardenTestKit

/// Issue 10: `wardend check-config` over the standard TOML test suite (toml-test, MIT,
/// in ../shared/data/toml-test when present). Every invalid TOML 1.0 document is refused
/// with exit 1 and a `TOML syntax` error naming the file and line (toml++ aborted on 5 of
/// them and accepted 3); every valid one gets past the TOML parser (it may still not be a
/// Warden configuration: exit 0 or 1, never a syntax error, never a crash). The five
/// that aborted are also committed fixtures (Tests/WardenTOMLTests/Fixtures), run with
/// or without the suite.
@Suite("check-config over the TOML test suite")
struct CheckConfigTOMLSuiteTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static var suite: String? {
        let dir = ProcessInfo.processInfo.environment["WARDEN_TOML_TEST_DIR"] ?? repo + "/../shared/data/toml-test"
        return FileManager.default.fileExists(atPath: dir + "/tests/files-toml-1.0.0") ? dir + "/tests" : nil
    }

    @Test func theDocumentsThatAbortedTOMLKitAreRefusedWithExit1() throws {
        let fixtures = Self.repo + "/Tests/WardenTOMLTests/Fixtures"
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures).filter { $0.hasSuffix(".toml") }
        #expect(names.count >= 6)
        for name in names {
            let (status, _, err) = try DaemonHarness.run("wardend", ["check-config", "--config", fixtures + "/" + name], environment: ["SWIFT_BACKTRACE": "enable=no"])
            #expect(status == 1, "\(name): exit \(status)\n\(err)")
            #expect(err.contains("\(name):") && err.contains("TOML syntax"), "\(name): \(err)")
        }
    }

    @Test(.enabled(if: suite != nil, "the toml-test suite is not in ../shared/data/toml-test (set WARDEN_TOML_TEST_DIR)"))
    func everyDocumentOfTheSuiteIsJudgedWithoutACrash() throws {
        let tests = try #require(Self.suite)
        let list = try String(contentsOfFile: tests + "/files-toml-1.0.0", encoding: .utf8).split(separator: "\n").map(String.init).filter { $0.hasSuffix(".toml") }
        var invalid = 0
        var valid = 0
        for path in list {
            let (status, _, err) = try DaemonHarness.run("wardend", ["check-config", "--config", tests + "/" + path], environment: ["SWIFT_BACKTRACE": "enable=no"])
            if path.hasPrefix("invalid/") {
                invalid += 1
                #expect(status == 1, "\(path): exit \(status)\n\(err)")
                #expect(err.contains("TOML syntax") || err.contains("not valid UTF-8"), "\(path) refused for another reason: \(err)")
            } else {
                valid += 1
                #expect(status == 0 || status == 1, "\(path): exit \(status)\n\(err)")
                #expect(!err.contains("TOML syntax"), "\(path) is valid TOML: \(err)")
            }
        }
        print("◇ check-config over toml-test 1.0.0: \(invalid) invalid documents refused, \(valid) valid ones read")
        #expect(invalid > 400 && valid > 150)
    }
}
