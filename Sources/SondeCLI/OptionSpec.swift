/// One option of a command, declared once: parsing, help and error messages all come from it.
package struct OptionSpec: Sendable, Equatable {
    /// The long name without dashes: `json` for `--json`.
    package var name: String
    /// A one-letter alias without the dash: `v` for `-v`.
    var short: Character?
    /// What follows the name, and how it is checked.
    package var kind: OptionKind
    /// The value's placeholder in help and usage (`DIR`, `N`, `NAME=VALUE`).
    var placeholder: String
    /// The default as shown in help (`checks`, `35d`); nil when there is none worth showing.
    var defaultText: String?
    /// An environment variable that sets it too (`SONDE_WEBHOOK`), shown in help.
    package var environment: String?
    /// One line of help.
    package var help: String

    /// Declares an option; the placeholder defaults to the kind's (`N`, `DAYS`, `text|json`).
    package init(
        _ name: String, short: Character? = nil, _ kind: OptionKind, placeholder: String? = nil,
        default defaultText: String? = nil, environment: String? = nil, help: String
    ) {
        self.name = name
        self.short = short
        self.kind = kind
        self.placeholder = placeholder ?? kind.defaultPlaceholder
        self.defaultText = defaultText
        self.environment = environment
        self.help = help
    }

    /// `--json`.
    var flagName: String { "--" + name }

    /// `--data DIR`, or `--json` for a flag.
    var synopsis: String { kind.takesValue ? flagName + " " + placeholder : flagName }

    /// `--help, -h`: shown by every command, handled by the parser.
    package static let help = OptionSpec("help", short: "h", .flag, help: "show this help")
}
