/// Help texts written from the declarations: the program's, and one per command.
package struct HelpText: Sendable {
    /// The program whose help this writes.
    var program: ProgramSpec

    /// Help for `program`.
    package init(program: ProgramSpec) {
        self.program = program
    }

    /// `sonde --help`: every command with its summary, the global options, exit codes, where to look next.
    package func global() -> String {
        var lines = [
            "\(program.name): \(program.summary)", "", "usage: \(program.name) <command> [options]", "",
            "commands:",
        ]
        let width = program.commands.map(\.name.count).max() ?? 0
        for command in program.commands {
            lines.append("  " + Self.pad(command.name, width) + "  " + command.summary)
        }
        lines += ["", "global options:"]
        lines += Self.optionLines(program.allGlobalOptions)
        if !program.exitCodes.isEmpty {
            lines += [
                "", "exit codes: " + program.exitCodes.map { "\($0.code) \($0.meaning)" }.joined(separator: ", "),
            ]
        }
        lines += ["", "See '\(program.name) help <command>' or '\(program.name) <command> --help' for its options."]
        return lines.joined(separator: "\n") + "\n"
    }

    /// `sonde run --help`: the command's summary, usage line, its options only, environment, exit codes.
    package func command(_ spec: CommandSpec) -> String {
        let path = program.name + " " + spec.name
        var lines = ["\(path): \(spec.summary)", "", "usage: " + usage(spec)]
        if !spec.subcommands.isEmpty {
            lines += ["", "subcommands:"]
            let width = spec.subcommands.map(\.name.count).max() ?? 0
            lines += spec.subcommands.map { "  " + Self.pad($0.name, width) + "  " + $0.summary }
            if !spec.notes.isEmpty { lines += [""] + spec.notes }
            lines += ["", "See '\(path) <subcommand> --help' for its options."]
            return lines.joined(separator: "\n") + "\n"
        }
        if case .paths(_, let help) = spec.positionals { lines += ["", help] }
        if case .one(_, let help, _) = spec.positionals { lines += ["", help] }
        lines += ["", "options:"]
        lines += Self.optionLines(spec.allOptions)
        if !spec.environment.isEmpty {
            lines += ["", "environment:"]
            let width = spec.environment.map(\.name.count).max() ?? 0
            lines += spec.environment.map { "  " + Self.pad($0.name, width) + "  " + $0.help }
        }
        if !spec.exitCodes.isEmpty {
            lines += ["", "exit codes:"]
            lines += spec.exitCodes.map { "  \($0.code)  \($0.meaning)" }
        }
        if !spec.notes.isEmpty { lines += [""] + spec.notes }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `sonde check [options] [PATH...]`.
    package func usage(_ spec: CommandSpec) -> String {
        var words = [program.name, spec.name]
        if !spec.subcommands.isEmpty { return (words + ["<subcommand>", "[options]"]).joined(separator: " ") }
        if !spec.options.isEmpty { words.append("[options]") }
        if let positional = spec.positionals.synopsis { words.append(positional) }
        return words.joined(separator: " ")
    }

    /// One aligned line per option: `  -v, --verbose        help (repeatable; default: x; also ENV)`.
    static func optionLines(_ options: [OptionSpec]) -> [String] {
        let heads = options.map { option in
            (option.short.map { "-\($0), " } ?? "    ") + option.synopsis
        }
        let width = heads.map(\.count).max() ?? 0
        return zip(options, heads).map { option, head in
            "  " + pad(head, width) + "  " + option.help + details(option)
        }
    }

    /// ` (repeatable; 5-3600; default: 45; also SONDE_WEBHOOK)`, or nothing.
    static func details(_ option: OptionSpec) -> String {
        var parts: [String] = []
        if option.kind == .repeatable { parts.append("repeatable") }
        if case .integer(let range) = option.kind { parts.append("\(range.lowerBound)-\(range.upperBound)") }
        if let defaultText = option.defaultText { parts.append("default: " + defaultText) }
        if let environment = option.environment { parts.append("also " + environment) }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: "; ") + ")"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
