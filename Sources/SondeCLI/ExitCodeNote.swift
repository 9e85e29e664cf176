/// One exit code and what it means, for help.
package struct ExitCodeNote: Sendable, Equatable {
    /// The process's exit status.
    package var code: Int32
    /// What it means, in a few words ("usage error").
    var meaning: String

    /// An exit code and its meaning.
    package init(_ code: Int32, _ meaning: String) {
        self.code = code
        self.meaning = meaning
    }
}
