import CCurl
import SondeSupport

extension Transfer {
    /// Sets the libcurl options of `[Options]`; returns a problem when this libcurl lacks a
    /// feature the request asks for (HTTP/2, HTTP/3, NTLM).
    func applyTransport(
        _ options: TransportOptions, easy: UnsafeMutableRawPointer, codes: inout [CURLcode]
    ) -> ProbeError? {
        func set(_ option: CURLoption, _ value: Int) { codes.append(sonde_easy_setopt_long(easy, option, value)) }
        func set(_ option: CURLoption, _ value: String) { codes.append(sonde_easy_setopt_string(easy, option, value)) }
        let version = String(cString: sonde_curl_version())
        if options.compressed { set(CURLOPT_ACCEPT_ENCODING, "") }
        if let http = options.httpVersion {
            switch http {
            case .http1_0: set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_0))
            case .http1_1: set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
            case .http2:
                guard sonde_curl_has_http2() != 0 else {
                    return .internal("option http2: this system's libcurl \(version) has no HTTP/2 support")
                }
                set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2_0))
            case .http3:
                guard sonde_curl_has_http3() != 0 else {
                    return .internal("option http3: this system's libcurl \(version) has no HTTP/3 support")
                }
                set(CURLOPT_HTTP_VERSION, 30)
            }
        }
        if let file = options.caCertificate { set(CURLOPT_CAINFO, file) }
        if let cert = options.clientCertificate {
            // Hurl's `file:password`.
            if let colon = cert.lastIndex(of: ":"), !cert[cert.index(after: colon)...].contains("/") {
                set(CURLOPT_SSLCERT, String(cert[..<colon]))
                set(CURLOPT_KEYPASSWD, String(cert[cert.index(after: colon)...]))
            } else {
                set(CURLOPT_SSLCERT, cert)
            }
        }
        if let key = options.clientKey { set(CURLOPT_SSLKEY, key) }
        if let proxy = options.proxy { set(CURLOPT_PROXY, proxy) }
        for (option, entries) in [(CURLOPT_RESOLVE, options.resolve), (CURLOPT_CONNECT_TO, options.connectTo)]
        where !entries.isEmpty {
            var list: UnsafeMutablePointer<curl_slist>?
            for entry in entries { list = curl_slist_append(list, entry) }
            if let list {
                optionLists.append(list)
                codes.append(sonde_easy_setopt_slist(easy, option, list))
            }
        }
        switch options.ipFamily {
        case 4: set(CURLOPT_IPRESOLVE, Int(CURL_IPRESOLVE_V4))
        case 6: set(CURLOPT_IPRESOLVE, Int(CURL_IPRESOLVE_V6))
        default: break
        }
        if let socket = options.unixSocket { set(CURLOPT_UNIX_SOCKET_PATH, socket) }
        if options.pathAsIs { set(CURLOPT_PATH_AS_IS, 1) }
        if let user = options.user { set(CURLOPT_USERPWD, user) }
        switch options.authentication {
        case .basic: break
        case .digest: set(CURLOPT_HTTPAUTH, sonde_curlauth_digest())
        case .ntlm:
            guard sonde_curl_has_ntlm() != 0 else {
                return .internal("option ntlm: this system's libcurl \(version) has no NTLM support")
            }
            set(CURLOPT_HTTPAUTH, sonde_curlauth_ntlm())
        }
        if let sigv4 = options.awsSigV4 { set(CURLOPT_AWS_SIGV4, sigv4) }
        switch options.netrc {
        case .optional?: set(CURLOPT_NETRC, Int(CURL_NETRC_OPTIONAL.rawValue))
        case .required?: set(CURLOPT_NETRC, Int(CURL_NETRC_REQUIRED.rawValue))
        case nil: break
        }
        if let file = options.netrcFile { set(CURLOPT_NETRC_FILE, file) }
        if options.unrestrictedAuth { set(CURLOPT_UNRESTRICTED_AUTH, 1) }
        if let rate = options.maxBytesPerSecond {
            codes.append(sonde_easy_setopt_off(easy, CURLOPT_MAX_RECV_SPEED_LARGE, curl_off_t(rate)))
            codes.append(sonde_easy_setopt_off(easy, CURLOPT_MAX_SEND_SPEED_LARGE, curl_off_t(rate)))
        }
        return nil
    }
}

extension Transfer {
    /// `url` without a `user:password@` part: libcurl writes the credentials into the URLs of a
    /// redirect it follows with `location-trusted`, and sonde prints and stores those URLs.
    static func withoutCredentials(_ url: String) -> String {
        guard url.contains("@"), let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + String(rest[rest.index(after: at)...])
    }
}
