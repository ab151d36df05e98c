import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import WardenClient
import WardenCore

/// `wardenctl submit FILE`: the records of a file through `record.submit`, one
/// transaction, validated like a spool file. Errors name the file and the line.
struct SubmitRecords: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit the records of a file in one transaction (record.submit).",
        discussion: """
            FILE is .json (one record object, or an array of them) or .ndjson/.jsonl (one record \
            per line; blank lines are skipped). With - the records are read from standard input \
            (a JSON value, else NDJSON). All records are stored or none: the first invalid one \
            fails the whole file, with every error listed by line. Requests are limited to the \
            socket's max_line (1 MiB by default); hand bigger files to the spool instead.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The record file, or - for standard input.", valueName: "file"), completion: .file(extensions: ["json", "ndjson", "jsonl"]))
    var file: String

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, ndjson
    }

    @Option(help: "Read the file as this format (default: by extension).") var format: Format?

    func run() throws {
        let name = file == "-" ? "stdin" : file
        let bytes: [UInt8]
        do {
            bytes = file == "-" ? try SystemIO.readStandardInput() : try SystemIO.readFile(file)
        } catch {
            throw fail("wardenctl: \(error)")
        }
        var kind = format
        if kind == nil {
            let base = file.split(separator: "/").last.map(String.init) ?? file
            let ext = base.dropFirst().contains(".") ? String(base[base.index(after: base.lastIndex(of: ".")!)...]) : ""
            switch ext.lowercased() {
            case "json": kind = .json
            case "ndjson", "jsonl": kind = .ndjson
            case "" where file == "-": kind = (try? JSONParser.parse(bytes)) != nil ? .json : .ndjson
            default: throw fail("wardenctl: \(file): unknown format; name it .json, .ndjson or .jsonl, or pass --format")
            }
        }
        // records and the line each starts on
        var records: [JSON] = []
        var lines: [Int] = []
        switch kind! {
        case .json:
            let value: JSON
            do { value = try JSONParser.parse(bytes) } catch { throw fail("wardenctl: \(name): not JSON: \(error)") }
            records = value.array ?? [value]
            lines = Array(repeating: 0, count: records.count)
        case .ndjson:
            var lineNumber = 0
            for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
                lineNumber += 1
                var line = Array(raw)
                if line.last == 0x0D { line.removeLast() }
                if NDJSON.isBlank(line) { continue }
                do { records.append(try JSONParser.parse(line)) } catch { throw fail("wardenctl: \(name):\(lineNumber): not JSON: \(error)") }
                lines.append(lineNumber)
            }
        }
        guard !records.isEmpty else { throw fail("wardenctl: \(name): no records") }

        let result: JSON
        do {
            result = try WardenConnection(path: global.socketPath, timeout: 300).call("record.submit", ["records": .array(records)])
        } catch let e as WardenConnection.ServerError {
            var message = "wardenctl: record.submit: \(e.message) (code \(e.code))"
            if e.code == -32600, e.message.contains("line longer") {
                message += "\n  the file is too big for one request; drop it into the spool (tmp/, then rename into incoming/)"
            }
            for err in e.data?["errors"]?.array ?? [] {
                var where_ = name
                if let r = err["record"]?.int, r >= 1, r <= lines.count, lines[r - 1] > 0 {
                    where_ += ":\(lines[r - 1])"
                }
                var parts: [String] = []
                if let r = err["record"]?.int { parts.append("record \(r)") }
                if let f = err["field"]?.string { parts.append(f) }
                message += "\n  \(where_): " + (parts.isEmpty ? "" : parts.joined(separator: ", ") + ": ") + (err["message"]?.string ?? "")
            }
            throw fail(message)
        } catch {
            throw fail("wardenctl: \(error)")
        }
        if global.json {
            print(JSONWriter.string(result))
            return
        }
        print("\(text(result["accepted"])) records from \(name): \(text(result["new"])) new, \(text(result["updated"])) updated, \(text(result["unchanged"])) unchanged")
    }
}

/// Prints `message` to standard error and returns the exit code 1 to throw.
func fail(_ message: String, code: Int32 = 1) -> ExitCode {
    SystemIO.writeError((message + "\n"))
    return ExitCode(code)
}
