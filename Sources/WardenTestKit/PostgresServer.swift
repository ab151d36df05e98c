import Foundation
import WardenCore
import WardenStore

/// A real PostgreSQL server of the tests' own: `initdb` into a fresh temporary
/// directory, `pg_ctl start` listening on a Unix socket in it (no TCP port), stopped and
/// deleted by `remove()`. As root it runs as the `postgres` user (PostgreSQL refuses
/// root). Its superuser is `warden` with trust authentication, and database `warden`
/// exists; `url` reaches it.
///
/// The server binaries come from Debian's `postgresql` package (`scripts/install-deps`
/// installs it) or the directory in `WARDEN_PG_BIN` (one without `initdb` stands for a
/// machine without PostgreSQL); `unavailable` says why there is no server, for tests to
/// skip with that message.
public final class PostgresServer: @unchecked Sendable {
    public let directory: String
    let bin: String
    let asPostgres: Bool
    public private(set) var isRunning = false

    /// The database `warden` on this server.
    public var url: String { "postgresql:///warden?host=\(directory)&user=warden" }

    /// A URL for another database of this server.
    public func url(database: String) -> String { "postgresql:///\(database)?host=\(directory)&user=warden" }

    /// Why no server can be started here, or nil when one can.
    public static var unavailable: String? {
        if let given = ProcessInfo.processInfo.environment["WARDEN_PG_BIN"], !FileManager.default.isExecutableFile(atPath: given + "/initdb") {
            return "WARDEN_PG_BIN=\(given) holds no initdb"
        }
        if binDirectory() == nil { return "PostgreSQL's server programs are not installed (scripts/install-deps installs postgresql)" }
        if getuid() == 0 && getpwnam("postgres") == nil { return "running as root and there is no postgres user to run the server as" }
        return nil
    }

    static func binDirectory() -> String? {
        if let given = ProcessInfo.processInfo.environment["WARDEN_PG_BIN"], FileManager.default.isExecutableFile(atPath: given + "/initdb") {
            return given
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for v in versions.compactMap(Int.init).sorted(by: >) {
            let dir = "/usr/lib/postgresql/\(v)/bin"
            if FileManager.default.isExecutableFile(atPath: dir + "/initdb") { return dir }
        }
        return nil
    }

    public init() throws {
        guard let bin = Self.binDirectory() else { throw HarnessError(Self.unavailable ?? "no PostgreSQL") }
        self.bin = bin
        asPostgres = getuid() == 0
        // Short path: the socket's path must fit in sun_path (108 bytes).
        var template = Array("/tmp/wpg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw HarnessError("mkdtemp: \(String(cString: strerror(errno)))") }
        directory = String(cString: made)
        if asPostgres, let pw = getpwnam("postgres") {
            chown(directory, pw.pointee.pw_uid, pw.pointee.pw_gid)
        }
        chmod(directory, 0o755)
        try run("initdb", ["-D", directory + "/data", "-U", "warden", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"])
        try start()
        let admin = try PGConnection(url: url(database: "postgres"))
        try admin.execute(script: "CREATE DATABASE warden")
        admin.close()
    }

    deinit { remove() }

    /// Starts the server (after `stop`), waiting until it accepts connections.
    public func start() throws {
        let options = "-k \(directory) -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        try run("pg_ctl", ["-D", directory + "/data", "-l", directory + "/server.log", "-o", options, "-w", "-t", "60", "start"])
        isRunning = true
    }

    /// Stops the server: `fast` rolls back sessions and shuts down cleanly,
    /// `immediate` is a crash (recovery at the next start).
    public func stop(mode: String = "fast") throws {
        guard isRunning else { return }
        try run("pg_ctl", ["-D", directory + "/data", "-m", mode, "-w", "-t", "60", "stop"])
        isRunning = false
    }

    public func restart() throws {
        try stop()
        try start()
    }

    /// Stops the server and deletes its directory.
    public func remove() {
        try? stop(mode: "immediate")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The server's log so far (for a failing test's message).
    public var log: String { (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? "" }

    /// Runs a server program with its output in `ctl.log` and no other descriptor of
    /// this process: the server `pg_ctl start` leaves running would otherwise inherit
    /// whatever pipes are open here (another test's, reading a child's output to its
    /// end) and hold them until it stops.
    func run(_ program: String, _ arguments: [String]) throws {
        let path = bin + "/" + program
        let ctlLog = directory + "/ctl.log"
        let argv = asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", path] + arguments : [path] + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, ctlLog, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        _ = spawnCloseFrom(&actions, 3)
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        guard spawned == 0 else { throw HarnessError("cannot run \(argv[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            let output = (try? String(contentsOfFile: ctlLog, encoding: .utf8)) ?? ""
            throw HarnessError("\(program) \(arguments.joined(separator: " ")) failed (wait status \(status)): \(output)\n\(log)")
        }
    }
}

/// glibc's posix_spawn_file_actions_addclosefrom_np (2.34), which the Glibc module does
/// not export.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func spawnCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32

extension PostgresServer {
    /// One server for the whole test process, started at first use and removed when the
    /// process exits; tests that want a database of their own take `freshDatabase()`.
    public static func shared() throws -> PostgresServer {
        try sharedServer.withLock { server in
            if let server { return server }
            let started = try PostgresServer()
            server = started
            atexit { PostgresServer.removeShared() }
            return started
        }
    }

    private static let sharedServer = Locked<PostgresServer?>(nil)
    private static let databases = Locked(0)

    private static func removeShared() {
        sharedServer.withLock { $0?.remove(); $0 = nil }
    }

    /// A new, empty database on this server; its URL.
    public func freshDatabase() throws -> String {
        let n = Self.databases.withLock { $0 += 1; return $0 }
        let name = "t\(getpid())_\(n)"
        let admin = try PGConnection(url: url(database: "postgres"))
        defer { admin.close() }
        try admin.execute(script: "CREATE DATABASE \(name)")
        return url(database: name)
    }
}
