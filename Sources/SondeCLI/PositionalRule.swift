/// What a command takes besides options.
package enum PositionalRule: Sendable, Equatable {
    /// Nothing; `hint` says where such a value goes instead ("give the data folder with --data DIR").
    case none(hint: String?)
    /// Any number of paths; `placeholder` in usage (`PATH`), `help` explains them and their default.
    case paths(placeholder: String, help: String)
    /// At most one command name (the `help` command).
    case command
    /// One value (`sonde maintenance end ID`); `placeholder` in usage, `help` explains it; when not
    /// `required` it may be left out (`[CHECK]`).
    case one(placeholder: String, help: String, required: Bool)

    /// How the rule reads in a usage line: `[PATH...]`, `[COMMAND]`, or nothing.
    var synopsis: String? {
        switch self {
        case .none: return nil
        case .paths(let placeholder, _): return "[\(placeholder)...]"
        case .command: return "[COMMAND]"
        case .one(let placeholder, _, let required): return required ? placeholder : "[\(placeholder)]"
        }
    }
}
