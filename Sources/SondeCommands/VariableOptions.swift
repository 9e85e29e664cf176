import SondeCLI
import SondeRun

/// The variable and secret options `check` and `run` share, declared once.
package enum VariableOptions {
    /// `--var NAME=VALUE`.
    static let variable = OptionSpec("var", .repeatable, placeholder: "NAME=VALUE", help: "set a variable")
    /// `--vars-file FILE`.
    static let varsFile = OptionSpec(
        "vars-file", .repeatable, placeholder: "FILE",
        help: "read NAME=VALUE lines, '#' for comments")
    /// `--secret NAME=VALUE`.
    static let secret = OptionSpec(
        "secret", .repeatable, placeholder: "NAME=VALUE",
        help: "set a secret variable, printed as ***")
    /// The three, in help order.
    static let options = [variable, varsFile, secret]

    /// The environment variables they read.
    package static let environment = [
        EnvironmentNote("SONDE_VAR_NAME", "sets the variable NAME (below --vars-file and --var)"),
        EnvironmentNote("SONDE_SECRET_NAME", "sets the secret NAME"),
    ]

    /// The variable sources the arguments and the environment give.
    static func sources(_ parsed: ParsedArguments, environment: [String: String]) -> VariableSources {
        VariableSources(
            environment: environment, varsFiles: parsed.strings(varsFile), vars: parsed.strings(variable),
            secrets: parsed.strings(secret))
    }
}
