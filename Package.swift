// swift-tools-version:6.0
import PackageDescription

// The layers follow the data's path; each target depends only on targets listed before it, so the
// compiler refuses a back-edge (docs/architecture.md has the graph).
let package = Package(
    name: "sonde",
    products: [
        .executable(name: "sonde", targets: ["sonde"])
    ],
    targets: [
        // libcurl's variadic C functions behind static inline wrappers.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        // libxml2 (which FoundationXML is built on), for XPath 1.0 over XML and HTML bodies.
        .systemLibrary(name: "CXML", path: "Sources/CXML", pkgConfig: "libxml-2.0"),
        // JSON, JSONPath, values, text forms, redaction, UTC time, line files, the event log, clocks.
        .target(name: "SondeSupport"),
        // The libcurl engine: one thread driving every transfer, with per-phase timings.
        .target(name: "SondeProbe", dependencies: ["CCurl", "SondeSupport"]),
        // The check-file format: lexer, parser, AST, directives, diagnostics.
        .target(name: "SondeScript", dependencies: ["SondeSupport"]),
        // One run of a check: templates, variables, requests, queries, filters, asserts, captures.
        .target(name: "SondeRun", dependencies: ["CXML", "SondeScript", "SondeProbe", "SondeSupport"]),
        // Run and hour files: the record writer, the readers, rollups, retention.
        .target(name: "SondeStore", dependencies: ["SondeRun", "SondeScript", "SondeProbe", "SondeSupport"]),
        // Uptime, latency, error budgets, burn rates, a check's status.
        .target(name: "SondeSLO", dependencies: ["SondeStore", "SondeScript", "SondeProbe", "SondeSupport"]),
        // Incidents from runs: detection, events, notifications.
        .target(
            name: "SondeIncidents",
            dependencies: ["SondeSLO", "SondeStore", "SondeScript", "SondeProbe", "SondeSupport"]),
        // Webhooks: targets, the delivery queue, retries.
        .target(name: "SondeAlerts", dependencies: ["SondeProbe", "SondeSupport"]),
        // Markdown pages, SVG charts, badges, JSON reports, incident write-ups, Prometheus text.
        .target(
            name: "SondeRender",
            dependencies: [
                "SondeIncidents", "SondeSLO", "SondeStore", "SondeRun", "SondeScript", "SondeProbe", "SondeSupport",
            ]),
        // A small HTTP/1.1 server (the /metrics listener and the demo shop).
        .target(name: "SondeServe", dependencies: ["SondeSupport"]),
        // The demo's leaky sample shop.
        .target(name: "SondeDemoShop", dependencies: ["SondeServe", "SondeSupport"]),
        // The prober daemon: the check set, the scheduler, live SLO and incident tracking, metrics.
        .target(
            name: "SondeDaemon",
            dependencies: [
                "SondeRender", "SondeAlerts", "SondeIncidents", "SondeSLO", "SondeStore", "SondeRun", "SondeScript",
                "SondeProbe", "SondeSupport",
            ]),
        // Table-driven argument parsing, per-command help and one-line usage errors.
        .target(name: "SondeCLI", dependencies: ["SondeSupport"]),
        // The commands: check, validate, run, status, report, incidents, demo, and their table.
        .target(
            name: "SondeCommands",
            dependencies: [
                "SondeCLI", "SondeDaemon", "SondeDemoShop", "SondeServe", "SondeRender", "SondeAlerts",
                "SondeIncidents", "SondeSLO", "SondeStore", "SondeRun", "SondeScript", "SondeProbe", "SondeSupport",
            ]),
        .executableTarget(name: "sonde", dependencies: ["SondeCommands"]),
        .testTarget(
            name: "SondeTests",
            dependencies: [
                "SondeCommands", "SondeCLI", "SondeDaemon", "SondeDemoShop", "SondeServe", "SondeRender",
                "SondeAlerts", "SondeIncidents", "SondeSLO", "SondeStore", "SondeRun", "SondeScript", "SondeProbe",
                "SondeSupport",
            ]),
    ],
    swiftLanguageModes: [.v6]
)
