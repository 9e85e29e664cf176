import CCurl
import Foundation
import SondeSupport

/// One request in flight: its easy handle, buffers and the continuation to resume.
/// Created on a caller's thread, then touched only by the engine thread.
final class Transfer: @unchecked Sendable {
    let id: UInt64
    let session: UInt64
    let request: ProbeRequest
    private var continuation: CheckedContinuation<Result<ProbeResponse, ProbeError>, Never>?

    var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var errorBuffer: UnsafeMutablePointer<CChar>?
    /// Lists of `resolve` and `connect-to` entries, kept until the transfer is released.
    var optionLists: [UnsafeMutablePointer<curl_slist>] = []
    fileprivate var body: [UInt8] = []
    fileprivate var headers: [HTTPField] = []
    /// Status of each response before the last and the URL it sent to, when redirects are followed.
    fileprivate var redirectChain: [(status: Int, location: String)] = []
    /// The status code of the response whose headers are being read.
    fileprivate var status = 0
    fileprivate var overLimit = false
    /// How long the transfer waited for a turn before it started; taken off its max-time.
    var waited: Duration = .zero

    let isHTTPS: Bool
    let isHTTPScheme: Bool
    let host: String

    init(
        id: UInt64, session: UInt64, request: ProbeRequest,
        continuation: CheckedContinuation<Result<ProbeResponse, ProbeError>, Never>
    ) {
        self.id = id
        self.session = session
        self.request = request
        self.continuation = continuation
        let target = URLTarget(request.url)
        isHTTPS = target.scheme == "https"
        isHTTPScheme = isHTTPS || target.scheme == "http"
        host = target.host + ":" + String(target.port)
    }

    /// Resumes the waiting task exactly once.
    func finish(_ result: Result<ProbeResponse, ProbeError>) {
        continuation?.resume(returning: result)
        continuation = nil
    }

    func releaseBuffers() {
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        for list in optionLists { curl_slist_free_all(list) }
        optionLists = []
        errorBuffer?.deallocate()
        errorBuffer = nil
    }

    /// Sets every option; returns a problem when libcurl refuses one.
    func configure(share: UnsafeMutableRawPointer?) -> ProbeError? {
        guard let easy else { return .internal("no easy handle") }
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        buffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer = buffer
        let context = Unmanaged.passUnretained(self).toOpaque()

        var codes: [CURLcode] = []
        func set(_ option: CURLoption, _ value: Int) { codes.append(sonde_easy_setopt_long(easy, option, value)) }
        func set(_ option: CURLoption, _ value: String) { codes.append(sonde_easy_setopt_string(easy, option, value)) }

        set(CURLOPT_URL, request.url)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_NOPROGRESS, 1)
        codes.append(sonde_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, buffer))
        if let share { codes.append(sonde_easy_setopt_ptr(easy, CURLOPT_SHARE, share)) }
        set(CURLOPT_COOKIEFILE, "")
        set(CURLOPT_CERTINFO, isHTTPS ? 1 : 0)
        if request.connectOnly { set(CURLOPT_CONNECT_ONLY, 1) }
        set(CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
        set(CURLOPT_MAXREDIRS, request.maxRedirects ?? 50)
        if request.insecure {
            set(CURLOPT_SSL_VERIFYPEER, 0)
            set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        if let maxTime = request.maxTime {
            set(CURLOPT_TIMEOUT_MS, max(1, Int((maxTime - waited).milliseconds.rounded(.up))))
        }
        if let connect = request.connectTimeout {
            set(CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(connect.milliseconds.rounded(.up))))
        }

        if request.transport != TransportOptions() {
            if let problem = applyTransport(request.transport, easy: easy, codes: &codes) { return problem }
        }

        switch request.method {
        case "GET": set(CURLOPT_HTTPGET, 1)
        case "HEAD": set(CURLOPT_NOBODY, 1)
        default: set(CURLOPT_CUSTOMREQUEST, request.method)
        }
        if let body = request.body {
            codes.append(sonde_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            codes.append(
                body.withUnsafeBytes {
                    sonde_easy_setopt_ptr(
                        easy, CURLOPT_COPYPOSTFIELDS, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
                })
            if request.method == "GET" || request.method == "HEAD" {
                // A body on GET: keep the method while sending the body.
                set(CURLOPT_CUSTOMREQUEST, request.method)
            }
        }

        var list: UnsafeMutablePointer<curl_slist>?
        var hasUserAgent = false
        var cookies: [String] = []
        for header in request.headers {
            let lower = header.name.lowercased()
            if lower == "cookie" {
                cookies.append(header.value)
                continue
            }
            if lower == "user-agent" { hasUserAgent = true }
            let line = header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)"
            list = curl_slist_append(list, line)
        }
        list = curl_slist_append(list, "Expect:")
        headerList = list
        codes.append(sonde_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list))
        if !hasUserAgent { set(CURLOPT_USERAGENT, "sonde/\(Sonde.version)") }
        if !cookies.isEmpty { set(CURLOPT_COOKIE, cookies.joined(separator: "; ")) }

        codes.append(sonde_easy_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, transferWrite))
        codes.append(sonde_easy_setopt_ptr(easy, CURLOPT_WRITEDATA, context))
        codes.append(sonde_easy_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION, transferHeader))
        codes.append(sonde_easy_setopt_ptr(easy, CURLOPT_HEADERDATA, context))

        if let bad = codes.first(where: { $0 != CURLE_OK }) {
            return .internal(
                "libcurl refused an option for \(request.url): \(String(cString: curl_easy_strerror(bad)))")
        }
        return nil
    }

    /// The response of a completed transfer.
    func response() -> ProbeResponse {
        guard let easy else {
            return ProbeResponse(
                status: 0, httpVersion: "1.1", headers: [], body: [], effectiveURL: request.url,
                timings: PhaseTimings(), certificate: nil, redirects: 0)
        }
        var status = 0
        sonde_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var version = 0
        sonde_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
        var redirects = 0
        sonde_easy_getinfo_long(easy, CURLINFO_REDIRECT_COUNT, &redirects)
        var urlPointer: UnsafeMutablePointer<CChar>?
        sonde_easy_getinfo_string(easy, CURLINFO_EFFECTIVE_URL, &urlPointer)
        let effectiveURL = urlPointer.map { Self.withoutCredentials(String(cString: $0)) } ?? request.url
        var ipPointer: UnsafeMutablePointer<CChar>?
        sonde_easy_getinfo_string(easy, CURLINFO_PRIMARY_IP, &ipPointer)

        func micro(_ info: CURLINFO) -> Double {
            var value: curl_off_t = 0
            sonde_easy_getinfo_off(easy, info, &value)
            return Double(value)
        }
        let lookup = micro(CURLINFO_NAMELOOKUP_TIME_T)
        let connect = micro(CURLINFO_CONNECT_TIME_T)
        let appConnect = micro(CURLINFO_APPCONNECT_TIME_T)
        let preTransfer = micro(CURLINFO_PRETRANSFER_TIME_T)
        let startTransfer = micro(CURLINFO_STARTTRANSFER_TIME_T)
        let total = micro(CURLINFO_TOTAL_TIME_T)
        let timings = PhaseTimings(
            dns: lookup / 1000,
            connect: max(connect - lookup, 0) / 1000,
            tls: appConnect > 0 ? max(appConnect - connect, 0) / 1000 : 0,
            ttfb: max(startTransfer - preTransfer, 0) / 1000,
            transfer: max(total - startTransfer, 0) / 1000,
            total: total / 1000,
            bytes: body.count)

        let versionText: String
        switch version {
        case Int(CURL_HTTP_VERSION_1_0): versionText = "1.0"
        case Int(CURL_HTTP_VERSION_2_0): versionText = "2"
        case 30: versionText = "3"
        default: versionText = "1.1"
        }
        return ProbeResponse(
            status: status, httpVersion: versionText, headers: headers, body: body,
            effectiveURL: effectiveURL, timings: timings, certificate: certificate(easy),
            redirects: redirects, redirectChain: redirectChain,
            primaryIP: ipPointer.map { String(cString: $0) } ?? "")
    }

    private func certificate(_ easy: UnsafeMutableRawPointer) -> CertificateInfo? {
        guard isHTTPS else { return nil }
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard sonde_easy_getinfo_certinfo(easy, &info) == CURLE_OK, let info,
            info.pointee.num_of_certs > 0, let lists = info.pointee.certinfo
        else { return nil }
        var fields: [String: String] = [:]
        var item = lists[0]
        while let node = item {
            if let data = node.pointee.data {
                let text = String(cString: data)
                if let colon = text.firstIndex(of: ":") {
                    fields[String(text[..<colon])] = String(text[text.index(after: colon)...])
                }
            }
            item = node.pointee.next
        }
        return CertificateInfo(
            subject: fields["Subject"] ?? "", issuer: fields["Issuer"] ?? "",
            startDate: fields["Start date"].flatMap(Self.parseCertificateDate),
            expireDate: fields["Expire date"].flatMap(Self.parseCertificateDate),
            serialNumber: fields["Serial Number"] ?? "",
            subjectAltName: (fields["X509v3 Subject Alternative Name"] ?? "").trimmingCharacters(in: .whitespaces))
    }

    /// Parses OpenSSL's `Mar 12 23:59:59 2027 GMT` (the day may be space-padded).
    static func parseCertificateDate(_ text: String) -> Date? {
        let parts = text.split(separator: " ").map(String.init)
        guard parts.count >= 4 else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy"
        return formatter.date(from: parts[0..<4].joined(separator: " "))
    }

    /// libcurl's cap on one response header line (`CURL_MAX_HTTP_HEADER`), in bytes.
    static let headerLineLimit = 100 * 1024

    /// True once libcurl has sent the request (a failure after it is about the answer).
    private var requestSent: Bool {
        var size = 0
        guard let easy, sonde_easy_getinfo_long(easy, CURLINFO_REQUEST_SIZE, &size) == CURLE_OK else { return false }
        return size > 0
    }

    /// The TLS alert an OpenSSL error text reports (`tlsv13 alert certificate required` →
    /// `alert certificate required`), or nil when it reports none.
    static func tlsAlert(in detail: String) -> String? {
        guard detail.contains("SSL routines"), let range = detail.range(of: "alert ") else { return nil }
        let rest = detail[range.lowerBound...]
        return String(rest.prefix { $0 != "," }).trimmingCharacters(in: .whitespaces)
    }

    /// Maps a libcurl failure to one error kind with an actionable message.
    func error(for code: CURLcode) -> ProbeError {
        let detail =
            errorBuffer.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
            ?? String(cString: curl_easy_strerror(code))
        let target = request.url
        var osErrno = 0
        if let easy { _ = sonde_easy_getinfo_long(easy, CURLINFO_OS_ERRNO, &osErrno) }
        if osErrno == Int(EMFILE) || osErrno == Int(ENFILE) {
            // sonde's own shortage, not the target's fault: say so rather than "cannot connect".
            return .internal(
                "no descriptor for a socket to \(target): \(errnoReason(Int32(osErrno))) (sonde is at its open-files limit): \(detail)"
            )
        }
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .dns("cannot resolve host of \(target): \(detail)")
        case CURLE_COULDNT_CONNECT:
            if let socket = request.transport.unixSocket {
                return .connect("cannot connect to \(target) through the Unix socket \(socket): \(detail)")
            }
            return .connect("cannot connect to \(target): \(detail)")
        case CURLE_OPERATION_TIMEDOUT:
            var limits: [String] = []
            if let t = request.maxTime { limits.append("max-time \(DurationText.milliseconds(t.milliseconds))") }
            if let t = request.connectTimeout {
                limits.append("connect-timeout \(DurationText.milliseconds(t.milliseconds))")
            }
            if waited >= .milliseconds(1) {
                limits.append("\(DurationText.milliseconds(waited.milliseconds)) of it waiting for a turn to connect")
            }
            let which = limits.isEmpty ? "" : " (\(limits.joined(separator: ", ")))"
            return .timeout("timeout\(which) for \(target): \(detail)")
        case CURLE_PEER_FAILED_VERIFICATION:
            return .untrusted("TLS failure with \(target): \(detail)", certificate: nil)
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ENGINE_NOTFOUND,
            CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_SHUTDOWN_FAILED, CURLE_USE_SSL_FAILED:
            if code == CURLE_SSL_CERTPROBLEM, request.transport.clientCertificate != nil {
                return .tls(
                    "TLS failure with \(target): the client certificate or its key cannot be used "
                        + "(options cert and key: the files, and the key's password after cert's FILE:): \(detail)")
            }
            return .tls("TLS failure with \(target): \(detail)")
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR:
            // With TLS 1.3 the client finishes its handshake before the server has checked the
            // client certificate: a refusal arrives as an alert on the first read.
            if let alert = Self.tlsAlert(in: detail) {
                let why =
                    alert.contains("certificate required")
                    ? "the server requires a client certificate (options cert and key)"
                    : request.transport.clientCertificate != nil
                        ? "the server refused the client certificate (\(alert))"
                        : "the server ended the session (\(alert))"
                return .tls("TLS failure with \(target): \(why): \(detail)")
            }
            return .protocol("bad HTTP answer from \(target): \(detail)")
        case CURLE_WRITE_ERROR where overLimit:
            return .tooLarge(limit: request.bodyLimit)
        case CURLE_WEIRD_SERVER_REPLY, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
            CURLE_BAD_CONTENT_ENCODING, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_TOO_MANY_REDIRECTS:
            return .protocol("bad HTTP answer from \(target): \(detail)")
        case CURLE_OUT_OF_MEMORY where isHTTPScheme && requestSent, CURLcode(rawValue: 100) where isHTTPScheme:
            // libcurl keeps a response header line in a buffer of at most 100 KB (CURL_MAX_HTTP_HEADER)
            // and answers a longer one with "Out of memory" (CURLE_TOO_LARGE from 8.6): the server's fault.
            return .protocol(
                "bad HTTP answer from \(target): a response header line longer than libcurl's limit of "
                    + "\(Self.headerLineLimit / 1024) KB (libcurl: \(detail))")
        case CURLE_UNSUPPORTED_PROTOCOL where isHTTPScheme:
            // libcurl's answer to a reply that is not HTTP (read as HTTP/0.9).
            return .protocol("bad HTTP answer from \(target): \(detail)")
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .internal("invalid URL \(target): \(detail)")
        default:
            return .internal("request to \(target) failed: \(detail)")
        }
    }
}

/// libcurl's write callback: appends the body, aborting once it passes the cap.
private let transferWrite: sonde_data_callback = { pointer, size, count, context in
    guard let pointer, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    if transfer.body.count + length > transfer.request.bodyLimit {
        transfer.overLimit = true
        return 0
    }
    pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
        transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}

/// libcurl's header callback: keeps the headers of the last response only.
private let transferHeader: sonde_data_callback = { pointer, size, count, context in
    guard let pointer, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    let line = pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
        HeaderLine(UnsafeBufferPointer(start: $0, count: length))
    }
    switch line {
    case .status:
        // A new response after a 3xx: libcurl followed it, and the effective URL is now its target.
        if (300...399).contains(transfer.status), let easy = transfer.easy {
            var url: UnsafeMutablePointer<CChar>?
            sonde_easy_getinfo_string(easy, CURLINFO_EFFECTIVE_URL, &url)
            transfer.redirectChain.append(
                (transfer.status, url.map { Transfer.withoutCredentials(String(cString: $0)) } ?? ""))
        }
        transfer.status = pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            statusCode(UnsafeBufferPointer(start: $0, count: length))
        }
        transfer.headers.removeAll()
        // A redirect's body was discarded by libcurl's follow logic; start the final one clean.
        transfer.body.removeAll(keepingCapacity: true)
    case .field(let field):
        transfer.headers.append(field)
    case .other:
        break
    }
    return length
}

/// The code of a status line (`HTTP/1.1 302 Found` → 302): the digits after the first space; 0
/// without them.
private func statusCode(_ line: UnsafeBufferPointer<UInt8>) -> Int {
    guard let space = line.firstIndex(of: UInt8(ascii: " ")) else { return 0 }
    var code = 0
    var i = space + 1
    while i < line.endIndex, i <= space + 3, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[i]) {
        code = code * 10 + Int(line[i] - UInt8(ascii: "0"))
        i += 1
    }
    return code
}

/// One header line as libcurl hands it over (CR LF included), read as: the status line of a new
/// response, a `name: value` field, or anything else (the blank line, a line without a colon).
/// The line is trimmed of white space and newlines, the value of white space; the name is kept as
/// it is up to the colon.
///
/// The callback runs for every header of every probe, so an ASCII line (all real ones) is split on
/// its bytes: Foundation's `trimmingCharacters(in:)` goes through NSString and cost more
/// instructions than the rest of a probe in sonde and libcurl together. Its ASCII members are the
/// same: `.whitespacesAndNewlines` is tab, LF, VT, FF, CR and space; `.whitespaces` is tab and space.
/// A line with any other byte takes the Foundation path, so the result never differs.
enum HeaderLine: Equatable {
    case status
    case field(HTTPField)
    case other

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.contains(where: { $0 >= 0x80 }) else {
            self.init(foundation: String(decoding: bytes, as: UTF8.self))
            return
        }
        func isSpaceOrNewline(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isSpaceOrNewline(bytes[start]) { start += 1 }
        while end > start, isSpaceOrNewline(bytes[end - 1]) { end -= 1 }
        let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
        if line.starts(with: "HTTP/".utf8) {
            self = .status
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            self = .other
            return
        }
        var valueStart = colon + 1
        var valueEnd = line.endIndex
        while valueStart < valueEnd, isSpace(line[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart, isSpace(line[valueEnd - 1]) { valueEnd -= 1 }
        self = .field(
            HTTPField(
                name: String(decoding: UnsafeBufferPointer(rebasing: line[..<colon]), as: UTF8.self),
                value: String(
                    decoding: UnsafeBufferPointer(rebasing: line[valueStart..<valueEnd]),
                    as: UTF8.self)))
    }

    /// The general path (any text): Foundation's trimming.
    init(foundation text: String) {
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            self = .status
        } else if let colon = line.firstIndex(of: ":") {
            self = .field(
                HTTPField(
                    name: String(line[..<colon]),
                    value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        } else {
            self = .other
        }
    }
}
