import Foundation

/// `sonde demo`: starts the embedded sample shop on loopback and runs the example checks against it once.
/// With `serve`, only serves the shop until the process is stopped (to try checks by hand or benchmark).
public struct DemoCommand: Sendable {
    /// Folder of example checks (they use `{{base_url}}` and `{{password}}`).
    public var checks: String = "checks"
    public var verbose = false
    /// Serve the shop until killed instead of running the checks.
    public var serve = false
    /// Port for the shop; 0 picks a free one.
    public var port: UInt16 = 0

    public init() {}

    public func run(console: Console) async -> Int32 {
        let shop: DemoShop
        let server: HTTPServer
        do {
            (shop, server) = try DemoShop.start(host: "127.0.0.1", port: port)
        } catch {
            console.err("error: cannot start the demo shop: \(error)\n")
            return ExitCode.runtime
        }
        defer {
            server.stop()
            withExtendedLifetime(shop) {}
        }
        console.err("demo: sample shop API listening on \(server.baseURL) (user demo, password \(serve ? DemoShop.demoPassword : "***"))\n")
        if serve {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
            return ExitCode.ok
        }
        var command = CheckCommand(paths: [checks],
                                   variables: VariableSources(vars: ["base_url=\(server.baseURL)"],
                                                              secrets: ["password=\(DemoShop.demoPassword)"]))
        command.verbose = verbose
        return await command.run(console: console)
    }
}
