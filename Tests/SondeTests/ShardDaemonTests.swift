import Foundation
import Testing

@testable import SondeDaemon
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

/// Two `sonde run` children sharing one checks folder with `--shard 1/2` and `--shard 2/2`.
@Suite("Shard: two probers over one checks folder")
struct ShardDaemonTests {
    /// Every run record in `folders` that reads (a torn last line is left out).
    static func records(_ folders: [String]) -> [RunRecord] {
        folders.flatMap { (try? DaemonTests.readAll($0))?.records ?? [] }
    }

    /// The first names of `candidates` in each of two shards, `perShard` of each.
    static func names(_ perShard: Int, from candidates: [String]) -> (first: [String], second: [String]) {
        let first = candidates.filter { Shard.part(of: $0, count: 2) == 1 }.prefix(perShard)
        let second = candidates.filter { Shard.part(of: $0, count: 2) == 2 }.prefix(perShard)
        return (Array(first), Array(second))
    }

    @Test(
        "each check runs in exactly one shard's data folder; logs count the shard's checks; /metrics has the histogram, check info and shard info and passes promtool"
    )
    func twoShards() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let (first, second) = Self.names(3, from: (1...40).map { "check-\($0)" })
        try #require(first.count == 3 && second.count == 3)
        let all = first + second
        for name in all {
            try folder.write(
                "checks/\(name).hurl", "# @every 1s\n# @latency 300ms 99%\nGET \(service.baseURL)/json\nHTTP 200\n")
        }
        let (portA, portB) = (try DaemonTests.freePort(), try DaemonTests.freePort())
        let a = try DaemonTests.Daemon(
            [
                "--shard", "1/2", "--data", "data-a", "--location", "a",
                "--metrics", "127.0.0.1:\(portA)",
            ], in: folder, tag: "a")
        let b = try DaemonTests.Daemon(
            [
                "--shard=2/2", "--data", "data-b", "--location", "b",
                "--metrics", "127.0.0.1:\(portB)",
            ], in: folder, tag: "b")
        defer {
            // Only a failed test leaves them running.
            for daemon in [a, b] where daemon.process.isRunning { daemon.signal(SIGKILL) }
        }

        // Every check has run at least twice, in one folder or the other.
        let folders = [folder.path + "/data-a", folder.path + "/data-b"]
        let ran = await pollUntil {
            let counts = Dictionary(grouping: Self.records(folders), by: \.check).mapValues(\.count)
            return all.allSatisfy { (counts[$0] ?? 0) >= 2 }
        }
        #expect(ran, "runs so far: a \(a.stderr) b \(b.stderr)")
        #expect(a.stderr.contains("start: 3 of 6 checks (shard 1/2) from checks every 1s"), "\(a.stderr)")
        #expect(b.stderr.contains("start: 3 of 6 checks (shard 2/2) from checks every 1s"), "\(b.stderr)")

        // A new check: after SIGHUP one shard runs it, and both logs count 7 in the folder.
        let added = try #require((41...80).map { "check-\($0)" }.first { Shard.part(of: $0, count: 2) == 2 })
        try folder.write("checks/\(added).hurl", "# @every 1s\nGET \(service.baseURL)/json\nHTTP 200\n")
        a.signal(SIGHUP)
        b.signal(SIGHUP)
        let reloaded = await pollUntil {
            a.stderr.contains("reload: 3 of 7 checks (shard 1/2); nothing changed")
                && b.stderr.contains("reload: 4 of 7 checks (shard 2/2); added \(added)")
        }
        #expect(reloaded, "a: \(a.stderr)\nb: \(b.stderr)")
        let addedRan = await pollUntil { Self.records([folders[1]]).contains { $0.check == added } }
        #expect(addedRan, "the added check ran in shard 2")

        for (port, location, shard, names) in [(portA, "a", "1/2", first), (portB, "b", "2/2", second + [added])] {
            let text = try await offPool {
                String(decoding: try RawHTTPClient(port: port).request("GET", "/metrics").body, as: UTF8.self)
            }
            #expect(text.contains("sonde_shard_info{location=\"\(location)\",shard=\"\(shard)\"} 1\n"))
            #expect(text.contains("sonde_checks{location=\"\(location)\"} \(names.count)\n"))
            #expect(text.contains("# TYPE sonde_run_duration_seconds histogram\n"))
            for name in first + second {
                let mine = names.contains(name)
                let info =
                    "sonde_check_info{check=\"\(name)\",location=\"\(location)\",interval=\"1\",objective=\"0.999\",latency_threshold=\"0.3\"} 1\n"
                #expect(text.contains(info) == mine, "\(location): \(name)")
                let bucket = "sonde_run_duration_seconds_bucket{check=\"\(name)\",location=\"\(location)\",le=\"0.3\"}"
                #expect(text.contains(bucket) == mine, "\(location): \(name)")
            }
            let file = try folder.write("metrics-\(location).txt", text)
            let (code, output) = try await offPool { try ProberTests.promtool(["check", "metrics"], stdin: file) }
            #expect(code == 0, "promtool: \(output)")
        }

        a.signal(SIGTERM)
        b.signal(SIGTERM)
        #expect(try await a.wait() == 0)
        #expect(try await b.wait() == 0)

        let inA = Set(DataFolder(folder.path + "/data-a").checks())
        let inB = Set(DataFolder(folder.path + "/data-b").checks())
        #expect(inA == Set(first), "shard 1's data folder: \(inA.sorted())")
        #expect(inB == Set(second + [added]), "shard 2's data folder: \(inB.sorted())")
        #expect(inA.isDisjoint(with: inB))
        let records = try folders.flatMap { try DaemonTests.readAll($0).records }
        for record in records {
            #expect(record.location == (Shard.part(of: record.check, count: 2) == 1 ? "a" : "b"), "\(record.check)")
        }
    }

    @Test("--once runs only the shard's checks, and a shard with none of the folder's checks says so and passes")
    func onceHonoursShard() async throws {
        let service = try TestService()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let (first, second) = Self.names(2, from: (1...40).map { "once-\($0)" })
        for name in first + second {
            try folder.write("checks/\(name).hurl", "GET \(service.baseURL)/json\nHTTP 200\n")
        }
        let once = try DaemonTests.Daemon(["--once", "--shard", "2/2"], in: folder, tag: "once")
        #expect(try await once.wait() == 0)
        for name in second { #expect(once.stdout.contains("checks/\(name).hurl: Success"), "\(once.stdout)") }
        for name in first { #expect(!once.stdout.contains("checks/\(name).hurl"), "\(once.stdout)") }
        #expect(once.stderr.contains("start: 2 of 4 checks (shard 2/2) from checks, once"), "\(once.stderr)")
        #expect(Set(DataFolder(folder.path + "/data").checks()) == Set(second))

        // With 4 checks over 1,000 shards, some shard holds none of them.
        let empty = try #require(
            (1...1000).first { index in
                (first + second).allSatisfy { Shard.part(of: $0, count: 1000) != index }
            })
        let idle = try DaemonTests.Daemon(
            ["--once", "--shard", "\(empty)/1000", "--data", "idle"], in: folder,
            tag: "idle")
        #expect(try await idle.wait() == 0)
        #expect(idle.stderr.contains("shard \(empty)/1000 runs none of the 4 checks in checks"), "\(idle.stderr)")
        #expect(idle.stdout == "")
    }
}
