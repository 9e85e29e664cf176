import SondeSLO
import SondeSupport

/// Renders a `StatusPage` as one self-contained HTML document (docs/status-page.md): inline CSS and
/// SVG, no scripts, no fonts, images or styles from anywhere else (the favicon is an empty `data:`
/// URL, so a browser asks for nothing), light and dark by `prefers-color-scheme`, one column on a
/// phone. It opens from `file://` as well as from `sonde run --listen`. The charts are the report's
/// own SVG (`UptimeStrip`, `Sparkline`); in dark mode the style sheet dims their light-grey
/// no-data bars and axes.
///
/// Every string that came from a check, a target or a data file (names, messages, ids, locations,
/// links, maintenance reasons) goes through `escape` — the page's one escaping function — before
/// it is written.
package enum StatusPageHTML {
    /// Text made safe for HTML content and quoted attribute values: `& < > " '` become entities,
    /// control characters become spaces (the rules of `SVG.escape`, which the inline charts use).
    package static func escape(_ text: String) -> String { SVG.escape(text) }

    /// The document.
    package static func render(_ page: StatusPage) -> String {
        let overall = page.overall
        var html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        html += "<meta name=\"color-scheme\" content=\"light dark\">\n"
        html += "<link rel=\"icon\" href=\"data:,\">\n"
        html += "<title>\(escape(overall.text)) · sonde status</title>\n"
        html += "<style>\n\(css)</style>\n</head>\n<body>\n"
        html += "<header>\n<h1>Service status</h1>\n"
        html += "<p id=\"overall\" class=\"overall \(overall.state.cssClass)\">"
        html += "<span class=\"dot\" aria-hidden=\"true\"></span>\(escape(overall.text))</p>\n"
        html += "<p class=\"meta\">" + escape(origin(page)) + "</p>\n</header>\n<main>\n"
        html += maintenance(page)
        html += incidents(page)
        html += "<section id=\"checks\">\n<h2>Checks</h2>\n"
        if page.checks.isEmpty { html += "<p class=\"none\">No checks.</p>\n" }
        for check in page.checks { html += article(check, source: page.source) }
        html += "</section>\n</main>\n<footer>\n"
        html += page.links.map { "<a href=\"\(escape($0.href))\">\(escape($0.text))</a>" }.joined(separator: " · ")
        html += "\n<p>sonde \(escape(Sonde.version))</p>\n</footer>\n</body>\n</html>\n"
        return html
    }

    /// `Generated … from data` or `Live from location …`.
    static func origin(_ page: StatusPage) -> String {
        let count = "\(page.checks.count) \(page.checks.count == 1 ? "check" : "checks")"
        switch page.source {
        case .report:
            return "Generated \(StatusPage.time(page.generatedMs)) from \(page.origin) · \(count)"
        case .live:
            return
                "Live from the prober at location \(page.origin), \(StatusTable.time(page.generatedMs)) · \(count) · reload for new figures"
        }
    }

    /// `2026-11-23 11:56:00Z`, escaped.
    static func time(_ ms: Int64) -> String { escape(StatusTable.time(ms)) }

    /// The checks a window covers: `every check`, or their names.
    static func scope(_ window: StatusPage.Maintenance) -> String {
        if window.everyCheck { return "every check" }
        return window.checks.map { "<strong>\(escape($0))</strong>" }.joined(separator: ", ")
    }

    /// `, reason <text>` for an ad hoc window (its id in code), `, recurring window <text>` else.
    static func why(_ window: StatusPage.Maintenance) -> String {
        guard let reason = window.reason else {
            return ", recurring window <code>\(escape(window.label))</code>"
        }
        return ", reason <span class=\"reason\">\(escape(reason))</span> (<code>\(escape(window.label))</code>)"
    }

    /// The Maintenance section: windows in progress, then the next ones within 7 days.
    static func maintenance(_ page: StatusPage) -> String {
        var html = "<section id=\"maintenance\">\n<h2>Maintenance</h2>\n"
        let windows = page.maintenance
        guard !windows.isEmpty else {
            return html + "<p class=\"none\">No maintenance now or in the next 7 days.</p>\n</section>\n"
        }
        html += "<ul class=\"windows\">\n"
        for window in windows {
            if window.contains(page.generatedMs) {
                html += "<li class=\"maint-now\"><span class=\"dot\" aria-hidden=\"true\"></span>"
                html += "In maintenance until \(time(window.untilMs)): \(scope(window))\(why(window))</li>\n"
            } else {
                html += "<li class=\"maint-next\">From \(time(window.fromMs)) until \(time(window.untilMs)): "
                html += "\(scope(window))\(why(window))</li>\n"
            }
        }
        html += "</ul>\n<p class=\"note\">Runs in a maintenance window are recorded but left out of uptime, "
        return html + "budgets and incidents; a check in one is not counted as down.</p>\n</section>\n"
    }

    static func incidents(_ page: StatusPage) -> String {
        var html = "<section id=\"incidents\">\n<h2>Open incidents</h2>\n"
        guard !page.incidents.isEmpty else { return html + "<p class=\"none\">No open incidents.</p>\n</section>\n" }
        html += "<ul class=\"incidents\">\n"
        for incident in page.incidents {
            html += "<li><strong>\(escape(incident.check))</strong>"
            if !incident.location.isEmpty { html += " at \(escape(incident.location))" }
            html += ": down since \(escape(StatusTable.time(incident.startedMs)))"
            html += ", detected \(escape(StatusTable.time(incident.detectedMs)))"
            if !incident.kind.isEmpty { html += " — <code>\(escape(incident.kind))</code>" }
            if !incident.message.isEmpty { html += " <span class=\"msg\">\(escape(incident.message))</span>" }
            if let link = incident.link { html += " (<a href=\"\(escape(link))\">write-up</a>)" }
            html += "</li>\n"
        }
        return html + "</ul>\n</section>\n"
    }

    static func article(_ check: StatusPage.Check, source: StatusPage.Source) -> String {
        let shown = check.shown
        var html = "<article class=\"check \(shown.cssClass)\">\n<h3>"
        html += "<span class=\"dot\" aria-hidden=\"true\"></span>"
        let name = escape(check.name)
        html +=
            check.link.map { "<a class=\"name\" href=\"\(escape($0))\">\(name)</a>" }
            ?? "<span class=\"name\">\(name)</span>"
        html += " <span class=\"state\">\(escape(shown.rawValue))</span></h3>\n"
        if let window = check.maintenance.current {
            html += "<p class=\"maint-now\">In maintenance until \(time(window.untilMs))\(why(window))</p>\n"
        }
        html += "<p class=\"last\">"
        html += check.lastRunMs.map { "Last run \(escape(StatusTable.time($0)))" } ?? "No run yet"
        html += "</p>\n"
        if let failure = check.failure {
            html += "<p class=\"failure\"><code>\(escape(failure.kind))</code> "
            html += "<span class=\"msg\">\(escape(failure.message))</span></p>\n"
        }
        html += "<dl class=\"uptime\">"
        for label in StatusPage.windowLabels {
            let text = check.uptime.first { $0.label == label }?.text ?? "-"
            html += "<div><dt>Uptime \(escape(label))</dt><dd>\(escape(text))</dd></div>"
        }
        html += "</dl>\n"
        let strip = UptimeStrip(
            days: check.days.map { UptimeStrip.Day(date: $0.date, uptime: $0.uptime, runs: Int(clamping: $0.runs)) },
            objective: check.objective)
        let spark = Sparkline(
            points: check.latency.points, label: check.latency.label, threshold: check.latency.thresholdMs)
        let days =
            source == .report
            ? "Daily uptime, last \(SLOEvaluator.stripDays) days" : "Daily uptime, the days the prober holds"
        html += "<div class=\"charts\">"
        html += "<figure class=\"chart\"><figcaption>\(escape(days))</figcaption>\(strip.svg)</figure>"
        html += "<figure class=\"chart\"><figcaption>Latency</figcaption>\(spark.svg)</figure></div>\n"
        if !check.maintenance.upcoming.isEmpty {
            html += "<p class=\"maint-next\">Next maintenance: "
            html += check.maintenance.upcoming.map { window in
                "from \(time(window.fromMs)) until \(time(window.untilMs))\(why(window))"
            }.joined(separator: "; ")
            html += "</p>\n"
        }
        return html + "</article>\n"
    }

    /// The style sheet: system fonts, CSS variables for light and dark, charts that shrink to the
    /// width of a phone.
    static let css = """
        :root{--bg:#ffffff;--fg:#1f2328;--muted:#59636e;--card:#f6f8fa;--line:#d1d9e0;--link:#0969da;\
        --up:#1a7f37;--down:#cf222e;--maint:#9a6700;--nodata:#8c959f;--code:#eff1f3}
        @media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--card:#151b23;\
        --line:#3d444d;--link:#4493f8;--up:#3fb950;--down:#f85149;--maint:#d29922;--nodata:#6e7681;--code:#262c36}\
        .chart rect[fill="#d0d7de"]{fill:#3d444d} .chart path[stroke="#d0d7de"]{stroke:#3d444d}}
        *{box-sizing:border-box}
        html{-webkit-text-size-adjust:100%}
        body{margin:0 auto;max-width:980px;padding:16px;background:var(--bg);color:var(--fg);\
        font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
        h1{font-size:1.6em;margin:.2em 0}
        h2{font-size:1.2em;margin:1.2em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}
        h3{font-size:1.05em;margin:0 0 .3em;display:flex;align-items:center;gap:.5em;flex-wrap:wrap}
        a{color:var(--link)}
        code{background:var(--code);border-radius:4px;padding:0 .3em;font-size:.9em}
        .meta,.last,.none,footer,figcaption{color:var(--muted)}
        .meta,.last,figcaption{font-size:.9em}
        .overall{display:inline-flex;align-items:center;gap:.5em;font-size:1.15em;font-weight:600;margin:.3em 0;\
        padding:.35em .8em;border-radius:8px;border:1px solid var(--line);background:var(--card)}
        .dot{display:inline-block;width:.75em;height:.75em;border-radius:50%;background:var(--nodata);flex:none}
        .up .dot{background:var(--up)} .down .dot{background:var(--down)} .maintenance .dot,.maint-now .dot{background:var(--maint)}
        .overall.down{border-color:var(--down)} .overall.maintenance{border-color:var(--maint)}
        .check{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin:0 0 12px}
        .check.down{border-left:4px solid var(--down)} .check.maintenance{border-left:4px solid var(--maint)}
        .name{font-weight:600;overflow-wrap:anywhere}
        .state{font-weight:normal;font-size:.85em;padding:0 .5em;border-radius:1em;border:1px solid var(--line)}
        .up .state{color:var(--up)} .down .state{color:var(--down)} .maintenance .state{color:var(--maint)}\
        .nodata .state{color:var(--muted)}
        .maint-now{color:var(--maint);font-weight:600} .maint-now .reason,.maint-now code{font-weight:normal}
        .maint-next,.note{color:var(--muted);font-size:.9em} .reason{overflow-wrap:anywhere}
        .windows{padding-left:1.2em;list-style:none} .windows li{margin:.3em 0;overflow-wrap:anywhere}
        .windows .dot{margin-right:.4em;vertical-align:baseline}
        .last,.failure{margin:.2em 0}
        .msg{overflow-wrap:anywhere}
        .uptime{display:flex;flex-wrap:wrap;gap:6px 24px;margin:.5em 0}
        .uptime div{min-width:9em} .uptime dt{font-size:.8em;color:var(--muted)} .uptime dd{margin:0;font-weight:600}
        .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:8px 20px;margin-top:.6em}
        .chart{margin:0;min-width:0} .chart svg{display:block;width:100%;max-width:540px;height:auto}
        .incidents{padding-left:1.2em} .incidents li{margin:.3em 0;overflow-wrap:anywhere}
        footer{margin-top:2em;font-size:.85em;border-top:1px solid var(--line);padding-top:.6em}
        @media (max-width:480px){body{padding:10px;font-size:14px} h1{font-size:1.35em} .uptime{gap:4px 14px}\
        .uptime div{min-width:6.5em}}

        """
}
