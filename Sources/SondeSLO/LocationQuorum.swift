import SondeScript

/// How many of a check's locations must fail in a time slot for the fleet to count the slot down
/// (README.md, "sonde report", Locations; docs/fleet.md, "Quorum in the report"): the quorum asked
/// for (`# @quorum`, else `--quorum`, else all), capped at the number of locations given.
///
/// A slot is down when at least N of the locations that ran in it failed; with `all`, when every
/// location that ran in it failed. A location that did not run in a slot does not count toward N,
/// and N is **not** lowered to the number that ran: a slot in which fewer than N locations ran is
/// up, as it is for the generated Prometheus rules (`sonde:check_down_quorum` compares the count of
/// failing locations with N, whatever the number that report), so that one location's view never
/// pages on its own when the others are missing. Coverage says how many slots were short of N.
package struct LocationQuorum: Sendable, Equatable, CustomStringConvertible {
    /// The quorum asked for.
    package var requested: Quorum
    /// The number of locations given (`--data` folders).
    package var locations: Int
    /// The quorum applied: `requested`, capped at `locations`.
    package var applied: Quorum

    /// The quorum `requested` over `locations` locations.
    package init(_ requested: Quorum, locations: Int) {
        self.requested = requested
        self.locations = max(1, locations)
        switch requested {
        case .atLeast(let n) where n > self.locations: applied = .atLeast(self.locations)
        default: applied = requested
        }
    }

    /// Whether the quorum asked for was above the number of locations and was lowered to it.
    package var isCapped: Bool { applied != requested }

    /// Whether a slot in which `ran` locations ran and `failed` of them failed is down.
    package func isDown(ran: Int, failed: Int) -> Bool {
        guard ran > 0 else { return false }
        switch applied {
        case .all: return failed >= ran
        case .atLeast(let n): return failed >= n
        }
    }

    /// Whether fewer locations ran in a slot than the quorum needs (so the slot cannot be down).
    package func isShort(ran: Int) -> Bool {
        switch applied {
        case .all: return ran == 0
        case .atLeast(let n): return ran < n
        }
    }

    /// `2 of 3 locations`, `all of 3 locations`.
    package var description: String {
        "\(applied) of \(locations) location\(locations == 1 ? "" : "s")"
    }
}
