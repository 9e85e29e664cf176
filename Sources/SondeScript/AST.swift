import SondeSupport

// The typed syntax tree of a check script (the Hurl subset of docs/check-format.md).

/// One request, optionally followed by the response it expects.
package struct Entry: Sendable, Equatable {
    package var request: Request
    package var response: ResponseSpec?
    /// Position of the request line (the method).
    package var location: SourceLocation
}

/// A request: method, URL, headers, sections and an optional body.
package struct Request: Sendable, Equatable {
    package var method: String
    package var url: Template
    package var headers: [KeyValue] = []
    /// `[Query]` / `[QueryStringParams]`: appended (percent-encoded) to the URL's query.
    package var query: [KeyValue] = []
    /// `[Form]` / `[FormParams]`: sent as `application/x-www-form-urlencoded`.
    package var form: [KeyValue] = []
    /// `[BasicAuth]`: one `user: password` line.
    package var basicAuth: KeyValue? = nil
    /// `[Cookies]`: cookies for this request only.
    package var cookies: [KeyValue] = []
    /// `[Multipart]` / `[MultipartFormData]`: fields and files, sent as `multipart/form-data`.
    package var multipart: [MultipartPart] = []
    /// `[Options]` in source order.
    package var options: [EntryOption] = []
    package var body: Body? = nil
    package var location: SourceLocation

    /// A request line with no sections yet.
    init(method: String, url: Template, location: SourceLocation) {
        self.method = method
        self.url = url
        self.location = location
    }
}

/// `name: value` line of a header or of a request section.
package struct KeyValue: Sendable, Equatable {
    package var key: Template
    package var value: Template
    package var location: SourceLocation
}

/// A request or response body.
package struct Body: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        /// A JSON object or array literal. Placeholders outside JSON strings use
        /// `.jsonValue` encoding (typed), inside strings `.jsonString`.
        case json(Template)
        /// A ```` ``` ```` multiline string (verbatim, each line ending in `\n`); `tag` is `json`, `raw` or nil.
        case multiline(Template, tag: String?)
        /// A `` `one line` `` string.
        case oneline(Template)
        /// `base64,…;` or `hex,…;`: bytes given in the file.
        case bytes([UInt8])
        /// `file,name;`: the bytes of a file next to the check, read when the check is loaded.
        case file(BodyFile)
        /// An XML document (a body starting with `<`), sent as written.
        case xml(String)
        /// A ```` ```graphql ```` multiline string: sent as JSON `{"query": …, "variables": …}`;
        /// `variables` is the JSON object after a `variables` line, if any.
        case graphql(query: Template, variables: Template?)
    }

    package var kind: Kind
    package var location: SourceLocation
}

/// A file named in a check (`file,name;`), resolved against the check's folder when the check is
/// loaded (`ScriptLoader`); `contents` stays nil when the script was parsed from text alone.
package struct BodyFile: Sendable, Equatable {
    /// The name as written between `file,` and `;`.
    package var name: String
    /// The file's bytes, once loaded.
    package var contents: [UInt8]? = nil
    package var location: SourceLocation
}

/// One line of a `[Multipart]` section.
package enum MultipartPart: Sendable, Equatable {
    /// `name: value`: a text field.
    case field(KeyValue)
    /// `name: file,name; type/subtype`: a file, with an optional content type.
    case file(name: Template, file: BodyFile, contentType: String?)
}

/// Text with `{{name}}` placeholders.
package struct Template: Sendable, Equatable, CustomStringConvertible {
    package enum Part: Sendable, Equatable {
        case literal(String)
        case placeholder(Placeholder)
    }

    package var parts: [Part]
    package var location: SourceLocation

    /// A template of `parts`, starting at `location`.
    init(parts: [Part], location: SourceLocation) {
        self.parts = parts
        self.location = location
    }

    /// A template of plain text.
    package init(literal: String, location: SourceLocation) {
        self.parts = literal.isEmpty ? [] : [.literal(literal)]
        self.location = location
    }

    /// The text when the template has no placeholder, else `nil`.
    var literalValue: String? {
        var out = ""
        for part in parts {
            switch part {
            case .literal(let s): out += s
            case .placeholder: return nil
            }
        }
        return out
    }

    /// The template as written (placeholders as `{{name}}`).
    package var description: String {
        parts.map { part -> String in
            switch part {
            case .literal(let s): return s
            case .placeholder(let p): return "{{\(p.name)}}"
            }
        }.joined()
    }
}

/// A `{{name}}` placeholder.
package struct Placeholder: Sendable, Equatable {
    /// How the value is written where the placeholder stands.
    package enum Encoding: Sendable, Equatable {
        /// As text (URLs, headers, section values, multiline bodies).
        case plain
        /// As a JSON value keeping its type (unquoted in a JSON body).
        case jsonValue
        /// As escaped JSON string content (inside a JSON string of a JSON body).
        case jsonString
    }

    /// A template function (Hurl's `newUuid`, `newDate`): a new value each time it is rendered.
    package enum Function: String, Sendable, Equatable, CaseIterable {
        case newUuid
        case newDate
    }

    /// The variable's name (or the function's).
    package var name: String
    /// The function when the name is one, else nil (a variable).
    package var function: Function? = nil
    /// How the value is written.
    package var encoding: Encoding = .plain
    package var location: SourceLocation
}

/// One `[Options]` line.
package struct EntryOption: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        case retry(Int)
        case retryInterval(Duration)
        case maxTime(Duration)
        case connectTimeout(Duration)
        case location(Bool)
        case maxRedirs(Int)
        case insecure(Bool)
        case delay(Duration)
        /// `variable: name=value`; the value is typed like a predicate value (`n=5` is an integer).
        case variable(name: String, value: PredicateValue)
        case skip(Bool)
        /// `repeat: N`: the entry runs N times.
        case `repeat`(Int)
        /// An on/off option passed to libcurl (or accepted and ignored, such as `verbose`).
        case flag(FlagOption, Bool)
        /// An option with a text value (a file, a host, credentials).
        case text(TextOption, Template)
        /// A numeric or on/off option whose value is a `{{template}}` (`retry: {{n}}`): read when
        /// the entry runs (`EntryOption.resolving`).
        case deferred(name: String, value: Placeholder)
        /// `limit-rate: N`: at most N bytes per second, up and down.
        case limitRate(Int)
    }

    /// The on/off options of `[Options]`, by their Hurl names.
    package enum FlagOption: String, Sendable, Equatable, CaseIterable {
        case compressed
        case http10 = "http1.0"
        case http11 = "http1.1"
        case http2
        case http3
        case ipv4
        case ipv6
        case pathAsIs = "path-as-is"
        case netrc
        case netrcOptional = "netrc-optional"
        case digest
        case ntlm
        case verbose
        case veryVerbose = "very-verbose"
        /// `location-trusted`: follow redirects, and send credentials (`user`, `[BasicAuth]`'s
        /// header aside) to the hosts they lead to as well.
        case locationTrusted = "location-trusted"
    }

    /// The text options of `[Options]`, by their Hurl names.
    package enum TextOption: String, Sendable, Equatable, CaseIterable {
        case cacert
        case cert
        case key
        case proxy
        case resolve
        case connectTo = "connect-to"
        case unixSocket = "unix-socket"
        case user
        case awsSigv4 = "aws-sigv4"
        case netrcFile = "netrc-file"
        case output
    }

    package var kind: Kind
    package var location: SourceLocation

    /// An option of `kind` written at `location` (line 0 for one given on the command line).
    package init(kind: Kind, location: SourceLocation) {
        self.kind = kind
        self.location = location
    }
}

/// The expected response of an entry.
package struct ResponseSpec: Sendable, Equatable {
    package enum Version: Sendable, Equatable {
        /// `HTTP`: any version.
        case any
        // swift-format-ignore: AlwaysUseLowerCamelCase
        // The names spell HTTP/1.0 and HTTP/1.1; `http10` would read as "HTTP ten".
        case http1_0, http1_1, http2, http3
    }

    package enum Status: Sendable, Equatable {
        /// `HTTP *`: no implicit status check.
        case any
        case code(Int)
    }

    package var version: Version
    package var status: Status
    /// Position of the `HTTP` line.
    package var location: SourceLocation
    /// Position of the status code (or `*`) on that line.
    package var statusLocation: SourceLocation
    /// Implicit header asserts: name case-insensitive, value exact.
    package var headers: [KeyValue] = []
    package var captures: [Capture] = []
    package var asserts: [Assert] = []
    /// Implicit `body ==` assert.
    package var body: Body? = nil

    /// A response spec with no sections yet.
    init(version: Version, status: Status, location: SourceLocation, statusLocation: SourceLocation) {
        self.version = version
        self.status = status
        self.location = location
        self.statusLocation = statusLocation
    }
}

/// `name: QUERY [FILTER...]` in `[Captures]`.
package struct Capture: Sendable, Equatable {
    package var name: String
    package var query: Query
    package var filters: [Filter]
    /// `redact` at the end of the line: the captured value is a secret from then on (masked
    /// wherever sonde prints, as a `--secret`).
    package var redact = false
    package var location: SourceLocation
}

/// `QUERY [FILTER...] PREDICATE` in `[Asserts]`.
package struct Assert: Sendable, Equatable {
    package var query: Query
    package var filters: [Filter]
    package var predicate: Predicate
    /// Position of the first character of the query.
    package var location: SourceLocation
}

/// What an assert or capture reads from the response.
package struct Query: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        case status
        /// `version`: the HTTP version as a string ("1.1", "2").
        case version
        case header(Template)
        case body
        case jsonpath(Template)
        /// `regex "pat"` or `regex /pat/`: group 1 of the first match (the whole match without a group).
        case regex(Template)
        case variable(String)
        case duration
        case url
        case certificate(CertificateField)
        /// `cookie "name"` or `cookie "name[Attribute]"`: a cookie of the response's `Set-Cookie` headers.
        case cookie(Template)
        /// `bytes`: the body as it came (not decoded).
        case bytes
        /// `xpath "expr"`: an XPath 1.0 expression over the body parsed as XML or HTML.
        case xpath(Template)
        /// `sha256` / `md5`: the hash of the body's bytes.
        case sha256, md5
        /// `ip`: the address of the server the response came from.
        case ip
        /// `redirects`: the redirects followed, in order, each an object with `location` and `status`.
        case redirects
    }

    package var kind: Kind
    package var location: SourceLocation

    package init(kind: Kind, location: SourceLocation) {
        self.kind = kind
        self.location = location
    }
}

/// Fields of `certificate "..."`.
package enum CertificateField: String, Sendable, Equatable, CaseIterable {
    case subject = "Subject"
    case issuer = "Issuer"
    case startDate = "Start-Date"
    case expireDate = "Expire-Date"
    case serialNumber = "Serial-Number"
    /// The subject alternative names, as libcurl reports them (`DNS:example.org, IP Address:…`).
    case subjectAltName = "Subject-Alt-Name"
}

/// The attribute of `cookie "name[Attribute]"` (Hurl's names); `value` without brackets.
package enum CookieAttribute: String, Sendable, Equatable, CaseIterable {
    case value = "Value"
    case expires = "Expires"
    case maxAge = "Max-Age"
    case domain = "Domain"
    case path = "Path"
    case secure = "Secure"
    case httpOnly = "HttpOnly"
    case sameSite = "SameSite"

    /// `name` and attribute of `name[Attribute]` (the attribute is `value` without brackets); nil
    /// when the brackets hold an unknown attribute or are not closed.
    package static func split(_ text: String) -> (name: String, attribute: CookieAttribute)? {
        guard let open = text.firstIndex(of: "[") else { return (text, .value) }
        guard text.hasSuffix("]") else { return nil }
        let inner = text[text.index(after: open)..<text.index(before: text.endIndex)]
        guard let attribute = allCases.first(where: { $0.rawValue.lowercased() == inner.lowercased() }) else {
            return nil
        }
        return (String(text[..<open]), attribute)
    }
}

/// A filter applied to a query's value, left to right.
package struct Filter: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        case count
        case nth(Int)
        case first
        case last
        case regex(Template)
        case split(Template)
        case replace(Template, Template)
        case toInt
        case toFloat
        case toString
        case daysAfterNow
        case daysBeforeNow
        case base64Decode, base64Encode, base64UrlSafeDecode, base64UrlSafeEncode
        /// `decode "charset"`: bytes to text in that charset.
        case decode(Template)
        /// `format "%Y-%m-%d"` (also `dateFormat`): a date as text, strftime-style.
        case format(Template)
        /// `toDate "%Y-%m-%d"`: text to a date, strftime-style (`%+` for ISO 8601).
        case toDate(Template)
        case htmlEscape, htmlUnescape
        case urlEncode, urlDecode
        /// `urlQueryParam "name"`: the value of a query parameter of a URL.
        case urlQueryParam(Template)
        case jsonpath(Template)
        case xpath(Template)
        case utf8Decode, utf8Encode
        case toHex
        /// `location`: the target URL of a redirect (of the `redirects` query).
        case location
        /// `replaceRegex /pattern/ "new"`: every match replaced.
        case replaceRegex(Template, Template)
    }

    package var kind: Kind
    package var location: SourceLocation
}

/// `[not] FUNCTION [VALUE]`.
package struct Predicate: Sendable, Equatable {
    package enum Function: Sendable, Equatable {
        case equal(PredicateValue)
        case notEqual(PredicateValue)
        case greater(PredicateValue)
        case greaterOrEqual(PredicateValue)
        case less(PredicateValue)
        case lessOrEqual(PredicateValue)
        case contains(PredicateValue)
        case startsWith(PredicateValue)
        case endsWith(PredicateValue)
        /// `matches "regex"` or `matches /regex/`.
        case matches(Template)
        case exists
        case isString
        case isInteger
        case isFloat
        case isNumber
        case isBoolean
        case isList
        case isEmpty
        /// `includes VALUE`: a list holds the value.
        case includes(PredicateValue)
        case isCollection
        case isObject
        case isDate
        case isIsoDate
        case isUuid
        case isIpv4
        case isIpv6

        /// The value the function compares with, if it takes one.
        package var value: PredicateValue? {
            switch self {
            case .equal(let v), .notEqual(let v), .greater(let v), .greaterOrEqual(let v), .less(let v),
                .lessOrEqual(let v), .contains(let v), .startsWith(let v), .endsWith(let v), .includes(let v):
                return v
            default: return nil
            }
        }

        /// The same function comparing with `value` instead (a function without a value is kept).
        package func with(_ value: PredicateValue) -> Function {
            switch self {
            case .equal: return .equal(value)
            case .notEqual: return .notEqual(value)
            case .greater: return .greater(value)
            case .greaterOrEqual: return .greaterOrEqual(value)
            case .less: return .less(value)
            case .lessOrEqual: return .lessOrEqual(value)
            case .contains: return .contains(value)
            case .startsWith: return .startsWith(value)
            case .endsWith: return .endsWith(value)
            case .includes: return .includes(value)
            default: return self
            }
        }
    }

    package var negated: Bool
    package var function: Function
    /// Position of the predicate (of `not` when negated).
    package var location: SourceLocation
}

/// A literal value in a predicate or a `variable` option.
package enum PredicateValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// A float with its source text (for messages: `5.0`).
    case float(Double, text: String)
    /// A quoted or backtick string; may hold placeholders rendered as text.
    case string(Template)
    /// A bare `{{name}}`: the variable's value with its own type.
    case placeholder(Placeholder)
    /// `hex,0a1b;` or `base64,AAE=;`: bytes.
    case bytes([UInt8])
    /// `file,name;`: the bytes of a file next to the check (as for a `file,` body), read when the
    /// check is loaded.
    case file(BodyFile)
}
