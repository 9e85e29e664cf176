/// An environment variable a command reads, for help.
package struct EnvironmentNote: Sendable, Equatable {
    /// Its name as written in help (`SONDE_VAR_NAME`).
    package var name: String
    /// One line of help.
    package var help: String

    /// A variable and what it does.
    package init(_ name: String, _ help: String) {
        self.name = name
        self.help = help
    }
}
