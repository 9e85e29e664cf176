import Foundation
import Testing

/// The fleet's configuration files under contrib/ — the ones docs/fleet.md includes verbatim — and
/// the substitutions a test on loopback makes in them. Each substitution must find its placeholder,
/// so a renamed placeholder fails the test instead of leaving a production address in a test's
/// config; docs/fleet.md's table of placeholders lists the same ones.
enum FleetConfig {
    static let prometheus = "contrib/fleet/prometheus.yml"
    static let alertmanager = "contrib/fleet/alertmanager.yml"
    static let proberUnit = "contrib/systemd/sonde@.service"
    static let rulesUnit = "contrib/systemd/sonde-rules.service"
    /// Every file docs/fleet.md must include.
    static let files = [prometheus, alertmanager, proberUnit, rulesUnit]

    /// Every text a test replaces in those files; docs/fleet.md's table of placeholders names each
    /// (FleetDocTests), and `substitute` refuses any other.
    static let placeholders = [
        "/etc/sonde/checks", "/var/lib/sonde/", "0.0.0.0:9115", "http://alertmanager.example.net:9093",
        "/etc/prometheus/sonde-rules.yml", "prober-a.example.net:9115", "prober-b.example.net:9115",
        "prober-c.example.net:9115", "alertmanager.example.net:9093", "scrape_interval: 15s",
        "evaluation_interval: 15s", "http://pager.example.net/sonde", "http://chat.example.net/sonde",
        "group_wait: 30s", "group_interval: 5m",
    ]

    /// The text of `path`, relative to the package root.
    static func text(_ path: String) throws -> String {
        try String(contentsOfFile: packageRoot + "/" + path, encoding: .utf8)
    }

    /// `text` with each `from` (one of `placeholders`) replaced by its `to`; fails naming `file` when
    /// a `from` is missing.
    static func substitute(_ text: String, _ pairs: [(from: String, to: String)], in file: String) throws -> String {
        var out = text
        for pair in pairs {
            try #require(placeholders.contains(pair.from), "'\(pair.from)' is not a documented placeholder")
            try #require(out.contains(pair.from), "\(file) no longer contains '\(pair.from)'")
            out = out.replacingOccurrences(of: pair.from, with: pair.to)
        }
        return out
    }

    /// The words of the `ExecStart=` line of the unit at `path`, `%i` replaced by `instance`.
    static func execStart(_ path: String, instance: String = "") throws -> [String] {
        let unit = try text(path)
        let line = try #require(
            unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") }, "\(path) has no ExecStart=")
        return line.dropFirst("ExecStart=".count).split(separator: " ").map {
            $0.replacingOccurrences(of: "%i", with: instance)
        }
    }

    /// contrib/fleet/alertmanager.yml for a test: the pager's and chat's URLs on `receiver`
    /// (`/pager`, `/chat`), and the production waits (`group_wait: 30s`, `group_interval: 5m`)
    /// shortened to 1 s so a notification comes within seconds.
    static func alertmanager(receiver: String) throws -> String {
        try substitute(
            text(alertmanager),
            [
                ("http://pager.example.net/sonde", receiver + "/pager"),
                ("http://chat.example.net/sonde", receiver + "/chat"),
                ("group_wait: 30s", "group_wait: 1s"),
                ("group_interval: 5m", "group_interval: 1s"),
            ], in: alertmanager)
    }
}
