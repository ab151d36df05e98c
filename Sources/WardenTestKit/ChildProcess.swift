import CWardenSys
import WardenCore

#if canImport(Glibc)
import Glibc
#endif

/// A program the tests run (wardend, wardenctl, promtool, the systemd scripts), started
/// with `posix_spawn` and reaped by pid.
///
/// Foundation's `Process` is not used: on Linux it closes descriptors it no longer owns
/// when several processes are started at once from different threads (swiftlang/swift
/// #57827), and the suite runs its tests in parallel; a `Pipe` of another test then
/// fails with EBADF and the whole test process traps. Every descriptor made here is
/// close-on-exec and closed exactly once, by its owner; the child gets only its
/// standard input, output and error.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `exit` is under its lock; the pipe ends are read by one caller.

    /// Where the child's standard output or error goes.
    public enum Output: Sendable {
        case null
        /// A pipe, read with `readOutput()` (or by `run`).
        case pipe
        /// Appended to a file (created mode 0640 if missing).
        case file(String)
        /// Standard error only: wherever standard output goes.
        case stdout
    }

    public let pid: pid_t
    private var stdoutPipe: Int32
    private var stderrPipe: Int32
    private var stdinPipe: Int32
    private let input: [UInt8]
    private let exit = Locked<Int32?>(nil)

    /// Starts `path` with `arguments`; `environment` is added to this process's own.
    /// `input`, if given, is written to the child's standard input by `readOutput()` (or
    /// `run`), which then closes it; otherwise standard input is /dev/null.
    public init(
        _ path: String, _ arguments: [String], environment: [String: String] = [:], input: [UInt8]? = nil,
        stdout: Output = .pipe, stderr: Output = .pipe
    ) throws {
        if input != nil { signal(SIGPIPE, SIG_IGN) }  // a child that exits unread fails the write, not the tests
        var pipes: [Int32] = []  // every end made here, closed on failure
        func pipePair() throws -> (read: Int32, write: Int32) {
            var ends: [Int32] = [-1, -1]
            guard warden_pipe_cloexec(&ends) == 0 else { throw HarnessError("pipe: \(String(cString: strerror(errno)))") }
            pipes += ends
            return (ends[0], ends[1])
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var (outRead, errRead, inWrite): (Int32, Int32, Int32) = (-1, -1, -1)
        var childEnds: [Int32] = []
        do {
            if input != nil {
                let p = try pipePair()
                posix_spawn_file_actions_adddup2(&actions, p.read, 0)
                inWrite = p.write
                // Written as room comes (`readOutput`): a blocking write of more than the
                // pipe holds would wait on a child waiting for its output to be read.
                _ = fcntl(p.write, F_SETFL, fcntl(p.write, F_GETFL) | O_NONBLOCK)
                childEnds.append(p.read)
            } else {
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            }
            for (fd, output) in [(Int32(1), stdout), (Int32(2), stderr)] {
                switch output {
                case .null:
                    posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
                case .file(let file):
                    posix_spawn_file_actions_addopen(&actions, fd, file, O_WRONLY | O_CREAT | O_APPEND, 0o640)
                case .stdout:
                    posix_spawn_file_actions_adddup2(&actions, 1, 2)
                case .pipe:
                    let p = try pipePair()
                    posix_spawn_file_actions_adddup2(&actions, p.write, fd)
                    childEnds.append(p.write)
                    if fd == 1 { outRead = p.read } else { errRead = p.read }
                }
            }
        } catch {
            for fd in pipes { close(fd) }
            throw error
        }
        // Nothing else the test process has open reaches the child (sockets a test made
        // without close-on-exec would otherwise stay open in a daemon it starts).
        warden_spawn_actions_closefrom(&actions, 3)
        // The child starts with default signal handling and nothing blocked (the test
        // process ignores SIGPIPE, and an ignored signal stays ignored across exec).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var env = SystemIO.environment()
        env.merge(environment) { $1 }
        let argv = [path] + arguments
        let envp = env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        var child: pid_t = 0
        let spawned = SystemIO.withCStrings(argv) { cargv in
            SystemIO.withCStrings(envp) { cenvp in posix_spawn(&child, path, &actions, &attributes, cargv, cenvp) }
        }
        for fd in childEnds { close(fd) }
        guard spawned == 0 else {
            for fd in [outRead, errRead, inWrite] where fd >= 0 { close(fd) }
            throw HarnessError("cannot run \(path): \(String(cString: strerror(spawned)))")
        }
        pid = child
        stdoutPipe = outRead
        stderrPipe = errRead
        stdinPipe = inWrite
        self.input = input ?? []
    }

    deinit {
        for fd in [stdoutPipe, stderrPipe, stdinPipe] where fd >= 0 { close(fd) }
        if exit.withLock({ $0 }) == nil {
            kill(pid, SIGKILL)
            _ = wait()
        }
    }

    /// Runs a program to its end: (pid, status, stdout, stderr).
    public static func run(
        _ path: String, _ arguments: [String], environment: [String: String] = [:], input: [UInt8]? = nil
    ) throws -> (pid: Int32, status: Int32, stdout: String, stderr: String) {
        let p = try ChildProcess(path, arguments, environment: environment, input: input)
        let (out, err) = p.readOutput()
        let status = p.wait()
        return (p.pid, status, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// Writes the input (if any) and reads the piped outputs until the child closes them
    /// (both at once, so neither pipe can fill and stall the child); closes the pipes.
    public func readOutput() -> (stdout: [UInt8], stderr: [UInt8]) {
        var out: [UInt8] = []
        var err: [UInt8] = []
        var written = 0
        if stdinPipe >= 0 && input.isEmpty { closeInput() }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while stdoutPipe >= 0 || stderrPipe >= 0 || stdinPipe >= 0 {
            var fds = [
                pollfd(fd: stdoutPipe, events: Int16(POLLIN), revents: 0), pollfd(fd: stderrPipe, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stdinPipe, events: Int16(POLLOUT), revents: 0),
            ]
            guard poll(&fds, 3, -1) >= 0 else {
                if errno == EINTR { continue }
                break
            }
            if fds[2].revents != 0 {
                let n = input.withUnsafeBytes { write(stdinPipe, $0.baseAddress! + written, $0.count - written) }
                if n > 0 { written += n }
                if n < 0 && errno != EINTR && errno != EAGAIN || written == input.count { closeInput() }
            }
            for (i, fd) in [stdoutPipe, stderrPipe].enumerated() where fd >= 0 && fds[i].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    if i == 0 { out += chunk[..<n] } else { err += chunk[..<n] }
                } else if n == 0 || errno != EINTR && errno != EAGAIN {
                    close(fd)
                    if i == 0 { stdoutPipe = -1 } else { stderrPipe = -1 }
                }
            }
        }
        return (out, err)
    }

    private func closeInput() {
        close(stdinPipe)
        stdinPipe = -1
    }

    /// Whether the child has not exited yet (reaps it if it has).
    public var isRunning: Bool {
        exit.withLock { exit in
            if exit != nil { return false }
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { exit = Self.decode(status) }
            return r == 0
        }
    }

    /// Waits for the child to exit; its exit code, or the number of the signal that
    /// ended it (as Foundation's `terminationStatus`).
    @discardableResult
    public func wait() -> Int32 {
        // Under the lock, so `isRunning` on another thread cannot reap it in between.
        exit.withLock { exit in
            if let done = exit { return done }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                if errno != EINTR { return -1 }
            }
            exit = Self.decode(status)
            return exit!
        }
    }

    /// As `wait()`, for a child that has exited (-1 while it runs).
    public var terminationStatus: Int32 { isRunning ? -1 : (exit.withLock { $0 } ?? -1) }

    /// Waits at most `timeout` seconds; past it SIGTERM, then SIGKILL `grace` seconds
    /// later. Returns whether it timed out.
    @discardableResult
    public func wait(timeout: Double, grace: Double = 10) -> Bool {
        func waitUntil(_ limit: Double) -> Bool {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            let start = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
            while isRunning {
                clock_gettime(CLOCK_MONOTONIC, &ts)
                if Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9 - start > limit { return false }
                usleep(20_000)
            }
            return true
        }
        if waitUntil(timeout) { return false }
        kill(pid, SIGTERM)
        if !waitUntil(grace) { kill(pid, SIGKILL) }
        wait()
        return true
    }

    static func decode(_ status: Int32) -> Int32 {
        status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
    }
}
