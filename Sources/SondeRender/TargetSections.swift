import SondeIncidents
import SondeSLO
import SondeSupport

/// The report's sections about targets rather than runs: certificates by days left, and how well
/// the checks with `@keep-warm` kept their targets awake (README.md, "sonde report").
extension SLOReport {
    /// `## Certificates` for the index: one row per check with a certificate, fewest days left
    /// first; empty when no check has one.
    func certificatesSection() -> String {
        guard !certificates.isEmpty else { return "" }
        var md = "\n## Certificates\n\n"
        md += "Leaf certificates seen by the latest HTTPS run of each check (one that failed verification "
        md += "included), fewest days left first; **expiring** when within the check's `@cert-expiry`.\n\n"
        md += Markdown.header(["Check", "Days left", "Expires", "State", "Subject", "Issuer"], right: [1])
        for row in certificates {
            let state: String
            if row.thresholdDays == nil {
                state = "not watched (`@cert-expiry off`)"
            } else if row.daysLeft <= 0 {
                state = "**expired**"
            } else {
                state = row.isExpiring ? "**expiring** (within \(Self.days(row.thresholdDays ?? 0)) d)" : "ok"
            }
            md += Markdown.row([
                Markdown.escape(row.check), String(format: "%.1f", row.daysLeft), Self.time(row.expiresMs), state,
                Markdown.escape(row.subject ?? "-"), Markdown.escape(row.issuer ?? "-"),
            ])
        }
        return md
    }

    /// `## Keep-warm` for the index: one row per check with `@keep-warm`; empty when none has it.
    func keepWarmSection() -> String {
        guard !keepWarm.isEmpty else { return "" }
        var md = "\n## Keep-warm\n\n"
        md += "Checks whose target sleeps after `@keep-warm` idle time, over the last "
        md += "\(DurationText.setting(.milliseconds(KeepWarmFigures.windowMs))). **Kept warm** is the share of "
        md += "time covered by gaps between runs shorter than the idle time; a **gap** is a stretch longer than "
        md += "it without a run (the service may have slept); a **cold start** is a run whose time to first byte "
        md += "is above both 1 s and 10 × the check's median.\n\n"
        md += Markdown.header(
            ["Check", "Idle time", "Runs", "Kept warm", "Gaps", "Cold starts", "Median TTFB"], right: [2, 3, 4, 5, 6])
        for name in keepWarm.keys.sorted() {
            guard let figures = keepWarm[name] else { continue }
            md += Markdown.row([
                "[\(Markdown.escape(name))](\(Markdown.link(pageName(name))))",
                DurationText.setting(.milliseconds(figures.idleMs)), String(figures.runs),
                PercentText.truncated(figures.warmShare, decimals: 1), String(figures.gaps.count),
                String(figures.coldStarts.count), DurationText.latency(figures.medianTTFBMs),
            ])
        }
        return md
    }

    /// `## Keep-warm` for a check's page: the figures, the gaps and the cold starts (at most 20 of
    /// each, newest first); empty without `@keep-warm` data.
    func keepWarmPage(_ check: String) -> String {
        guard let figures = keepWarm[check] else { return "" }
        let idle = DurationText.setting(.milliseconds(figures.idleMs))
        var md = "\n## Keep-warm\n\n"
        md += "The target sleeps after \(idle) without a request (`@keep-warm`). Since the first run of the last "
        md += "\(DurationText.setting(.milliseconds(KeepWarmFigures.windowMs))) (\(Self.time(figures.fromMs))), "
        md += "\(PercentText.truncated(figures.warmShare, decimals: 1)) of the time was covered by gaps "
        md += "between runs shorter than \(idle); \(figures.gaps.count) gaps were longer (the service may have "
        md += "slept); \(figures.coldStarts.count) of \(figures.runs) runs were cold starts (time to first byte "
        md += "above 1 s and 10 × the median of \(DurationText.latency(figures.medianTTFBMs))).\n"
        if !figures.gaps.isEmpty {
            md += "\n" + Markdown.header(["Gap from", "to", "Length"], right: [2])
            for gap in figures.gaps.reversed().prefix(20) {
                md += Markdown.row([Self.time(gap.fromMs), Self.time(gap.toMs), DurationText.span(gap.lengthMs)])
            }
        }
        if !figures.coldStarts.isEmpty {
            md += "\n" + Markdown.header(["Cold start", "Time to first byte"], right: [1])
            for cold in figures.coldStarts.reversed().prefix(20) {
                md += Markdown.row([Self.time(cold.timeMs), DurationText.latency(cold.ttfbMs)])
            }
        }
        return md
    }

    /// `14` or `0.5`: a threshold in days.
    static func days(_ value: Double) -> String { String(format: "%g", value) }
}

extension ReportJSON {
    /// `certificates`: the index's rows, fewest days left first.
    static func certificates(_ rows: [CertificateStatus]) -> Value {
        .list(
            rows.map { row in
                .object([
                    ("check", .string(row.check)),
                    ("days_left", .float((row.daysLeft * 1000).rounded(.down) / 1000)),
                    ("expires", .string(UTCTime.rfc3339(row.expiresMs))),
                    ("seen", .string(UTCTime.rfc3339(row.seenMs))),
                    ("location", .string(row.location)),
                    ("threshold_days", row.thresholdDays.map(Value.float) ?? .null),
                    ("expiring", .bool(row.isExpiring)),
                    ("subject", row.subject.map(Value.string) ?? .null),
                    ("issuer", row.issuer.map(Value.string) ?? .null),
                ])
            })
    }

    /// `keep_warm`: one object per check with `@keep-warm`, by name.
    static func keepWarm(_ figures: [String: KeepWarmFigures]) -> Value {
        .list(
            figures.keys.sorted().compactMap { name in
                guard let f = figures[name] else { return nil }
                return .object([
                    ("check", .string(name)),
                    ("idle", .string(DurationText.setting(.milliseconds(f.idleMs)))),
                    ("from", .string(UTCTime.rfc3339(f.fromMs))), ("to", .string(UTCTime.rfc3339(f.toMs))),
                    ("runs", .integer(Int64(f.runs))),
                    ("warm_share", .float((f.warmShare * 10_000).rounded(.down) / 10_000)),
                    ("median_ttfb_ms", f.medianTTFBMs.map(Value.float) ?? .null),
                    (
                        "cold_starts",
                        .list(
                            f.coldStarts.map {
                                .object([("t", .string(UTCTime.rfc3339($0.timeMs))), ("ttfb_ms", .float($0.ttfbMs))])
                            })
                    ),
                    (
                        "gaps",
                        .list(
                            f.gaps.map {
                                .object([
                                    ("from", .string(UTCTime.rfc3339($0.fromMs))),
                                    ("to", .string(UTCTime.rfc3339($0.toMs))),
                                    ("length_s", .integer($0.lengthMs / 1000)),
                                ])
                            })
                    ),
                ])
            })
    }
}
