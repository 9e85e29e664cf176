/// Facts about this build of sonde.
public enum Sonde {
    /// The version printed by `sonde --version` and sent as the default User-Agent.
    public static let version = "0.1.0"
}
