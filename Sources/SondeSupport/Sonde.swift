/// Facts about this build of sonde.
package enum Sonde {
    /// The version printed by `sonde --version` and sent as the default User-Agent.
    package static let version = "0.1.0"
}
