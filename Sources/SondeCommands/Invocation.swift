/// What a command line asks `sonde` to do, with each command's struct built from its arguments.
enum Invocation: Sendable {
    /// Print this help on standard output, exit 0.
    case help(String)
    /// No command at all: print this help on standard error, exit 1.
    case missingCommand(String)
    /// Print the version.
    case version
    /// `sonde check`.
    case check(CheckCommand)
    /// `sonde validate`.
    case validate(ValidateCommand)
    /// `sonde run`.
    case run(RunCommand)
    /// `sonde status`.
    case status(StatusCommand)
    /// `sonde report`.
    case report(ReportCommand)
    /// `sonde incidents`.
    case incidents(IncidentsCommand)
    /// `sonde rules`.
    case rules(RulesCommand)
    /// `sonde maintenance add|list|end`.
    case maintenance(MaintenanceCommand)
    /// `sonde demo`.
    case demo(DemoCommand)
}
