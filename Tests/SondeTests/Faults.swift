import Testing

/// The fault-injection suites (docs/faults.md): `Faults*Tests.swift`, sized by `SONDE_FAULTS`.
/// They run one after another: each drives real `sonde` processes, sockets and files, and side by
/// side they would load two cores enough to upset the timing of the other suites of `make test`.
@Suite("Fault injection", .serialized)
enum Faults {}
