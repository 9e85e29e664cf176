import SondeSupport

/// The windows burn rates are measured over (README.md, "sonde report"; after the SRE workbook's
/// multi-window, multi-burn-rate alerts for a 30-day objective).
package enum BurnWindow: String, Sendable, CaseIterable, Comparable {
    case m5 = "5m"
    case m30 = "30m"
    case h1 = "1h"
    case h2 = "2h"
    case h6 = "6h"
    case d1 = "1d"
    case d3 = "3d"

    package var milliseconds: Int64 {
        switch self {
        case .m5: return 5 * 60_000
        case .m30: return 30 * 60_000
        case .h1: return UTCTime.msPerHour
        case .h2: return 2 * UTCTime.msPerHour
        case .h6: return 6 * UTCTime.msPerHour
        case .d1: return UTCTime.msPerDay
        case .d3: return 3 * UTCTime.msPerDay
        }
    }

    /// Fewest runs a window needs before its burn rate counts; below it the window reports
    /// "insufficient data". The 5-minute and 30-minute windows only confirm that a problem is still
    /// going on, so one run is enough; longer windows carry the alert's weight and need 10.
    package var minimumRuns: Int64 {
        switch self {
        case .m5, .m30: return 1
        default: return 10
        }
    }

    package static func < (a: BurnWindow, b: BurnWindow) -> Bool { a.milliseconds < b.milliseconds }
}
