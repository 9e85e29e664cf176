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
        /// `repeat`: how many times the entry runs.
        var repeatCount = 1
        /// `limit-rate`: bytes per second, nil for no limit.
        var limitRate: Int?
        var variables: [(name: String, value: PredicateValue, location: SourceLocation)] = []
        /// On/off options for libcurl, last one wins.
        var flags: [EntryOption.FlagOption: Bool] = [:]
        /// Text options for libcurl, in order (`resolve` and `connect-to` add up, the others: last wins).
        var texts: [(option: EntryOption.TextOption, value: Template)] = []

        init(_ options: [EntryOption]) {
            for option in options {
                switch option.kind {
                case .repeat(let n): repeatCount = n
                case .deferred: break  // resolved by `resolvingTemplates` before the entry runs
                case .flag(let flag, let on):
                    flags[flag] = on
                    if flag == .locationTrusted { location = on }
                case .limitRate(let n): limitRate = n
                case .text(let text, let value): texts.append((text, value))
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

    /// `options` with each `deferred` option (`retry: {{n}}`) read from its variable's value.
    static func resolvingTemplates(_ options: [EntryOption], variables: Variables) throws(EvalError) -> [EntryOption] {
        var resolved = options
        // The entry's own `variable` options count, as for its other templates.
        var scope = variables
        for option in options {
            if case .variable(let name, let value) = option.kind {
                scope.set(name, try TemplateRenderer.value(of: value, scope))
            }
        }
        for (index, option) in options.enumerated() {
            guard case .deferred(let name, let placeholder) = option.kind else { continue }
            let text = ValueText.plain(try TemplateRenderer.value(of: placeholder, scope))
            do {
                resolved[index] = try EntryOption.resolving(name: name, text: text, location: option.location)
            } catch {
                throw .badOption(name: name, message: error.message, location: option.location)
            }
        }
        return resolved
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
        if !request.multipart.isEmpty {
            let (bytes, contentType) = try Self.multipartBody(request.multipart, variables: variables)
            body = bytes
            if headers.first("Content-Type") == nil {
                headers.append(HTTPField(name: "Content-Type", value: contentType))
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
                let types = ["json": "application/json", "xml": "application/xml"]
                if let tag, let type = types[tag], headers.first("Content-Type") == nil {
                    headers.append(HTTPField(name: "Content-Type", value: type))
                }
            case .oneline(let template):
                body = Array(try TemplateRenderer.render(template, variables).utf8)
            case .bytes(let bytes):
                body = bytes
            case .file(let file):
                guard let contents = file.contents else {
                    throw .fileNotLoaded(name: file.name, location: file.location)
                }
                body = contents
            case .xml(let text):
                body = Array(text.utf8)
                if headers.first("Content-Type") == nil {
                    headers.append(HTTPField(name: "Content-Type", value: "application/xml"))
                }
            case .graphql(let query, let variablesTemplate):
                var json = #"{"query":""# + JSON.escape(try TemplateRenderer.render(query, variables)) + "\""
                if let variablesTemplate {
                    json += #","variables":"# + (try TemplateRenderer.render(variablesTemplate, variables))
                }
                body = Array((json + "}").utf8)
                if headers.first("Content-Type") == nil {
                    headers.append(HTTPField(name: "Content-Type", value: "application/json"))
                }
            }
        }

        var probe = ProbeRequest(method: request.method, url: url, headers: headers, body: body)
        probe.followRedirects = options.location
        probe.maxRedirects = options.maxRedirs
        probe.insecure = options.insecure
        probe.maxTime = options.maxTime
        probe.connectTimeout = options.connectTimeout
        probe.bodyLimit = bodyLimit
        probe.transport = try transport(options, variables: variables)
        return probe
    }

    /// The libcurl settings of the entry's on/off and text options.
    static func transport(_ options: EntryOptions, variables: Variables) throws(EvalError) -> TransportOptions {
        var transport = TransportOptions()
        transport.maxBytesPerSecond = options.limitRate
        if options.flags.isEmpty && options.texts.isEmpty { return transport }
        for (flag, on) in options.flags where on {
            switch flag {
            case .compressed: transport.compressed = true
            case .http10: transport.httpVersion = .http1_0
            case .http11: transport.httpVersion = .http1_1
            case .http2: transport.httpVersion = .http2
            case .http3: transport.httpVersion = .http3
            case .ipv4: transport.ipFamily = 4
            case .ipv6: transport.ipFamily = 6
            case .pathAsIs: transport.pathAsIs = true
            case .netrc: transport.netrc = .required
            case .netrcOptional: transport.netrc = transport.netrc ?? .optional
            case .digest: transport.authentication = .digest
            case .ntlm: transport.authentication = .ntlm
            case .verbose, .veryVerbose: break  // accepted; sonde check --verbose prints requests
            case .locationTrusted: transport.unrestrictedAuth = true
            }
        }
        for (option, template) in options.texts {
            let value = try TemplateRenderer.render(template, variables)
            switch option {
            case .cacert: transport.caCertificate = value
            case .cert: transport.clientCertificate = value
            case .key: transport.clientKey = value
            case .proxy: transport.proxy = value
            case .resolve: transport.resolve.append(value)
            case .connectTo: transport.connectTo.append(value)
            case .unixSocket: transport.unixSocket = value
            case .user: transport.user = value
            case .awsSigv4: transport.awsSigV4 = value
            case .netrcFile:
                transport.netrcFile = value
                transport.netrc = transport.netrc ?? .optional
            case .output: break  // accepted; sonde keeps no response bodies
            }
        }
        return transport
    }

    /// A `multipart/form-data` body of text fields and files, and its content type.
    static func multipartBody(
        _ parts: [MultipartPart], variables: Variables
    ) throws(EvalError) -> ([UInt8], String) {
        let boundary = "sonde-" + UUID().uuidString.lowercased()
        var out: [UInt8] = []
        func line(_ text: String) { out += Array((text + "\r\n").utf8) }
        func quoted(_ text: String) -> String {
            text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        }
        for part in parts {
            line("--" + boundary)
            switch part {
            case .field(let field):
                let name = try TemplateRenderer.render(field.key, variables)
                line("Content-Disposition: form-data; name=\"\(quoted(name))\"")
                line("")
                line(try TemplateRenderer.render(field.value, variables))
            case .file(let nameTemplate, let file, let contentType):
                guard let contents = file.contents else {
                    throw .fileNotLoaded(name: file.name, location: file.location)
                }
                let name = try TemplateRenderer.render(nameTemplate, variables)
                let fileName = file.name.split(separator: "/").last.map(String.init) ?? file.name
                line("Content-Disposition: form-data; name=\"\(quoted(name))\"; filename=\"\(quoted(fileName))\"")
                line("Content-Type: " + (contentType ?? Self.contentType(ofFile: fileName)))
                line("")
                out += contents
                line("")
            }
        }
        line("--" + boundary + "--")
        return (out, "multipart/form-data; boundary=" + boundary)
    }

    /// The content type libcurl would give a file by its extension (application/octet-stream else).
    static func contentType(ofFile name: String) -> String {
        let types = [
            "gif": "image/gif", "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "svg": "image/svg+xml",
            "txt": "text/plain", "htm": "text/html", "html": "text/html", "pdf": "application/pdf",
            "xml": "application/xml", "json": "application/json",
        ]
        let ext = name.split(separator: ".").last.map { $0.lowercased() } ?? ""
        return name.contains(".") ? types[ext] ?? "application/octet-stream" : "application/octet-stream"
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
