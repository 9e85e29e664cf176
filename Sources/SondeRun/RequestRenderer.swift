import Foundation
import SondeProbe
import SondeScript
import SondeSupport

/// Turns a request of the AST into a `ProbeRequest`: templates rendered, sections applied.
enum RequestRenderer {
    /// Options of one entry after resolving `[Options]` lines (last one wins).
    struct EntryOptions {
        var retry = 0
        var retryInterval: Duration = .seconds(1)
        var maxTime: Duration?
        var connectTimeout: Duration?
        var location = false
        var maxRedirs: Int?
        var insecure = false
        var delay: Duration = .zero
        var skip = false
        var variables: [(name: String, value: PredicateValue, location: SourceLocation)] = []

        init(_ options: [EntryOption]) {
            for option in options {
                switch option.kind {
                case .retry(let n): retry = n
                case .retryInterval(let d): retryInterval = d
                case .maxTime(let d): maxTime = d
                case .connectTimeout(let d): connectTimeout = d
                case .location(let b): location = b
                case .maxRedirs(let n): maxRedirs = n
                case .insecure(let b): insecure = b
                case .delay(let d): delay = d
                case .skip(let b): skip = b
                case .variable(let name, let value): variables.append((name, value, option.location))
                }
            }
        }
    }

    static func render(
        _ request: Request, options: EntryOptions, variables: Variables,
        bodyLimit: Int
    ) throws(EvalError) -> ProbeRequest {
        var url = try TemplateRenderer.render(request.url, variables)
        if !request.query.isEmpty {
            var pairs: [String] = []
            for item in request.query {
                let key = try TemplateRenderer.render(item.key, variables)
                let value = try TemplateRenderer.render(item.value, variables)
                pairs.append(URLEncoding.percentEncode(key) + "=" + URLEncoding.percentEncode(value))
            }
            url = appendQuery(pairs.joined(separator: "&"), to: url)
        }

        var headers: [HTTPField] = []
        for header in request.headers {
            headers.append(
                HTTPField(
                    name: try TemplateRenderer.render(header.key, variables),
                    value: try TemplateRenderer.render(header.value, variables)))
        }
        if let auth = request.basicAuth {
            let user = try TemplateRenderer.render(auth.key, variables)
            let password = try TemplateRenderer.render(auth.value, variables)
            let token = Data("\(user):\(password)".utf8).base64EncodedString()
            headers.append(HTTPField(name: "Authorization", value: "Basic \(token)"))
        }
        if !request.cookies.isEmpty {
            var pairs: [String] = []
            for cookie in request.cookies {
                pairs.append(
                    try TemplateRenderer.render(cookie.key, variables) + "="
                        + TemplateRenderer.render(cookie.value, variables))
            }
            headers.append(HTTPField(name: "Cookie", value: pairs.joined(separator: "; ")))
        }

        var body: [UInt8]?
        if !request.form.isEmpty {
            var pairs: [String] = []
            for item in request.form {
                let key = try TemplateRenderer.render(item.key, variables)
                let value = try TemplateRenderer.render(item.value, variables)
                pairs.append(URLEncoding.formEncode(key) + "=" + URLEncoding.formEncode(value))
            }
            body = Array(pairs.joined(separator: "&").utf8)
            if headers.first("Content-Type") == nil {
                headers.append(HTTPField(name: "Content-Type", value: "application/x-www-form-urlencoded"))
            }
        }
        if let requestBody = request.body {
            switch requestBody.kind {
            case .json(let template):
                body = Array(try TemplateRenderer.render(template, variables).utf8)
                if headers.first("Content-Type") == nil {
                    headers.append(HTTPField(name: "Content-Type", value: "application/json"))
                }
            case .multiline(let template, let tag):
                body = Array(try TemplateRenderer.render(template, variables).utf8)
                if tag == "json", headers.first("Content-Type") == nil {
                    headers.append(HTTPField(name: "Content-Type", value: "application/json"))
                }
            case .oneline(let template):
                body = Array(try TemplateRenderer.render(template, variables).utf8)
            }
        }

        var probe = ProbeRequest(method: request.method, url: url, headers: headers, body: body)
        probe.followRedirects = options.location
        probe.maxRedirects = options.maxRedirs
        probe.insecure = options.insecure
        probe.maxTime = options.maxTime
        probe.connectTimeout = options.connectTimeout
        probe.bodyLimit = bodyLimit
        return probe
    }

    /// Appends an encoded query to a URL, before any `#fragment`.
    static func appendQuery(_ query: String, to url: String) -> String {
        guard !query.isEmpty else { return url }
        var base = url
        var fragment = ""
        if let hash = url.firstIndex(of: "#") {
            base = String(url[..<hash])
            fragment = String(url[hash...])
        }
        let separator = base.contains("?") ? (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&") : "?"
        return base + separator + query + fragment
    }

}
