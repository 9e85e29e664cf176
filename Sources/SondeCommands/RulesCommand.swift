import Foundation
import SondeRender
import SondeSLO
import SondeScript
import SondeSupport

/// `sonde rules`: a Prometheus rule file for the checks of a folder (README.md, "sonde rules";
/// docs/rules.md), printed or written atomically to a file.
struct RulesCommand: Sendable {
    /// Folder (or file) of check scripts.
    var checks = "checks"
    /// The quorum of checks whose file has no `@quorum`.
    var quorum: Quorum = .all
    /// Where the rule file goes; nil for standard output.
    var out: String?

    /// Why the rules cannot be made or written.
    enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Two files give the same check name: the second path, the name, the first path.
        case duplicate(String, name: String, first: String)
        /// The file cannot be written: its path and the system's reason.
        case cannotWrite(String, String)

        /// One line, without the `error: ` prefix.
        var description: String {
            switch self {
            case .duplicate(let path, let name, let first):
                return
                    "\(path): a check named '\(name)' is already loaded from \(first); a check's name is its file name, so rename one"
            case .cannotWrite(let path, let reason):
                return "cannot write \(path): \(reason)"
            }
        }
    }

    /// Runs the command: 0 done, 1 usage (no checks, duplicate names), 2 a file does not parse,
    /// 3 the file cannot be written.
    func run(console: Console) -> Int32 {
        let scripts: [CheckScript]
        switch CheckCommand.loadAll([checks], console: console) {
        case .success(let loaded): scripts = loaded
        case .failure(let failure): return failure.code
        }
        let rules: PrometheusRules
        do {
            rules = try build(scripts)
        } catch {
            console.err("error: \(error)\n")
            return ExitCode.usage
        }
        guard let out else {
            console.out(rules.text)
            return ExitCode.ok
        }
        do {
            try Self.writeAtomically(out, rules.text)
        } catch {
            console.err("error: \(error)\n")
            return ExitCode.runtime
        }
        let n = rules.checks.count
        console.out("wrote \(out): rules for \(n) \(n == 1 ? "check" : "checks")\n")
        return ExitCode.ok
    }

    /// The rules of `scripts`, sorted by check name; two scripts of one name are refused.
    func build(_ scripts: [CheckScript]) throws(Failure) -> PrometheusRules {
        var seen: [String: String] = [:]
        for script in scripts {
            if let first = seen[script.name] { throw .duplicate(script.path, name: script.name, first: first) }
            seen[script.name] = script.path
        }
        let checks = scripts.sorted { $0.name < $1.name }.map {
            PrometheusRules.Check(script: $0, defaultQuorum: quorum)
        }
        return PrometheusRules(checks: checks)
    }

    /// Writes `text` to a temporary file beside `path`, flushes it to disk and renames it over
    /// `path`, so a reader (Prometheus reloading its rules) sees the old file or the new one, never
    /// half of one. Creates the folder when it is missing.
    static func writeAtomically(_ path: String, _ text: String) throws(Failure) {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw .cannotWrite(path, Self.reason(error))
            }
        }
        let name = (path as NSString).lastPathComponent
        let temporary = (folder.isEmpty ? "" : folder + "/") + ".\(name).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotWrite(path, errnoReason(errno)) }
        var failure: String?
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count, failure == nil {
            let n = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return write(fd, base + offset, buffer.count - offset)
            }
            if n < 0 {
                if errno != EINTR { failure = errnoReason(errno) }
            } else {
                offset += n
            }
        }
        bytes.removeAll()
        if failure == nil, fsync(fd) != 0 { failure = errnoReason(errno) }
        if close(fd) != 0, failure == nil { failure = errnoReason(errno) }
        if failure == nil, rename(temporary, path) != 0 { failure = errnoReason(errno) }
        if let failure {
            unlink(temporary)
            throw .cannotWrite(path, failure)
        }
    }

    /// The system's reason inside a Foundation error, lower case.
    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain
        {
            return errnoReason(Int32(underlying.code))
        }
        return nsError.localizedDescription
    }
}
