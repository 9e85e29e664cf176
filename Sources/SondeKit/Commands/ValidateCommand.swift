/// `sonde validate [PATH...]`: parses only; exit 0 when every file parses, 2 otherwise (1 for bad paths).
public struct ValidateCommand: Sendable {
    public var paths: [String]

    public init(paths: [String]) {
        self.paths = paths.isEmpty ? ["checks"] : paths
    }

    public func run(console: Console) -> Int32 {
        let files: [String]
        do {
            files = try ScriptLoader.expand(paths)
        } catch {
            console.err("error: \(error)\n")
            return ExitCode.usage
        }
        var code = ExitCode.ok
        for file in files {
            do {
                let script = try ScriptLoader.load(file)
                let n = script.entries.count
                console.out("\(file): valid (\(n) \(n == 1 ? "entry" : "entries"), every \(Self.format(script.settings.every)))\n")
            } catch {
                switch error {
                case .parse(let parseError, let source):
                    console.err(parseError.render(source: source) + "\n")
                    code = max(code, ExitCode.parse)
                default:
                    console.err("error: \(error)\n")
                    code = max(code, ExitCode.usage)
                }
            }
        }
        return code
    }

    static func format(_ d: Duration) -> String {
        let ms = Int64(d.milliseconds)
        if ms % 86_400_000 == 0 { return "\(ms / 86_400_000)d" }
        if ms % 3_600_000 == 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}
