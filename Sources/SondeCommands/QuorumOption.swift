import SondeCLI
import SondeScript
import SondeSupport

/// `--quorum N|all`, shared by `sonde report`, `sonde incidents` and `sonde rules`: how many
/// locations must see a check down, for the checks whose file has no `# @quorum`.
enum QuorumOption {
    /// The option, with the command's own help text.
    static func spec(help: String) -> OptionSpec {
        OptionSpec(
            "quorum", .countOrAll(1...Quorum.maximum), default: "all", help: help)
    }

    /// The quorum given, nil when the option is absent.
    static func value(_ parsed: ParsedArguments, _ option: OptionSpec) -> Quorum? {
        if let n = parsed.number(option) { return .atLeast(n) }
        return parsed.string(option) == "all" ? .all : nil
    }
}
