import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Headless Chromium (Debian's `chromium`, installed by `make test-deps`) run as a child process:
/// one invocation per call, each with its own `--user-data-dir` under the test's folder, its output
/// in files there, and killed by its own pid when it runs past the deadline. The tests that use it
/// are in one serialized suite, so at most one Chromium runs at a time.
struct Chromium {
    /// What one invocation left behind.
    struct Output {
        var stdout: String
        var stderr: String
        var status: Int32
    }

    enum Failure: Error, CustomStringConvertible {
        case missing
        case timedOut(seconds: Int, stderr: String)

        var description: String {
            switch self {
            case .missing:
                return "chromium is not installed: run make test-deps (apt-get install -y chromium)"
            case .timedOut(let seconds, let stderr):
                return
                    "chromium did not finish within \(seconds) s and was killed; its stderr ends: \(stderr.suffix(2000))"
            }
        }
    }

    /// The binary, where Debian puts it.
    static let binary = "/usr/bin/chromium"

    /// The folder the runs' profiles and logs go to.
    let folder: String
    /// Generous: Chromium starts slowly on a busy two-core machine.
    var timeout: Duration = .seconds(180)
    private let counter = Counter()

    init(folder: String) {
        self.folder = folder
    }

    /// `--dump-dom`: the DOM after the page has loaded, serialized. With `logLoads`, Chromium's
    /// verbose log (which names every file:// load: `FileURLLoader::Start: URL`) is in `stderr`.
    func dumpDOM(_ url: String, logLoads: Bool = false) async throws -> Output {
        try await run(
            (logLoads ? ["--enable-logging=stderr", "--v=1"] : ["--enable-logging=stderr", "--v=0"])
                + ["--dump-dom", url])
    }

    /// `--screenshot` at `width`×`height`, written to `path`.
    func screenshot(_ url: String, to path: String, width: Int, height: Int) async throws -> Output {
        try await run(["--screenshot=\(path)", "--window-size=\(width),\(height)", "--hide-scrollbars", url])
    }

    /// One invocation with the common headless flags and a fresh profile.
    func run(_ arguments: [String]) async throws -> Output {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else { throw Failure.missing }
        let n = counter.next()
        let profile = folder + "/chromium-profile-\(n)"
        let outPath = folder + "/chromium-\(n).out"
        let errPath = folder + "/chromium-\(n).err"
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        // At a lower priority (nice execs Chromium, so the pid stays its own): the timing tests
        // running beside this suite get the cores first.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
        process.arguments =
            [
                "-n", "10", Self.binary,
                "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)", "--no-first-run",
                "--disable-extensions", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--no-default-browser-check",
            ] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        let pid = process.processIdentifier
        let finished = await pollUntil(timeout: timeout) { !process.isRunning }
        let stderr = { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        guard finished else {
            kill(pid, SIGKILL)
            _ = await pollUntil(timeout: .seconds(10)) { !process.isRunning }
            throw Failure.timedOut(seconds: Int(timeout.components.seconds), stderr: stderr())
        }
        return Output(
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "", stderr: stderr(),
            status: process.terminationStatus)
    }

    /// The URLs Chromium's verbose log says it loaded from files.
    static func fileLoads(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "FileURLLoader::Start: ") else { return nil }
            return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
    }

    /// Whether `path` is a PNG of at least `minimumBytes` and of the given size in pixels.
    static func isPNG(_ path: String, width: Int, height: Int, minimumBytes: Int = 10_000) -> Bool {
        guard let data = FileManager.default.contents(atPath: path), data.count >= minimumBytes else { return false }
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            return false
        }
        func be32(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return be32(16) == width && be32(20) == height
    }
}
