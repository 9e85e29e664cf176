import SondeSupport

/// The libcurl settings of one request beyond method, URL, headers and body: what an entry's
/// `[Options]` (and `sonde check`'s Hurl flags) ask for. All off by default; the engine applies
/// them when it builds the transfer.
package struct TransportOptions: Sendable, Equatable {
    /// The HTTP version to ask for (`http1.0`, `http1.1`, `http2`, `http3`).
    package enum HTTPVersion: String, Sendable, Equatable {
        // swift-format-ignore: AlwaysUseLowerCamelCase
        // The names spell HTTP/1.0 and HTTP/1.1, as `ResponseSpec.Version` does.
        case http1_0 = "HTTP/1.0"
        // swift-format-ignore: AlwaysUseLowerCamelCase
        case http1_1 = "HTTP/1.1"
        case http2 = "HTTP/2"
        case http3 = "HTTP/3"
    }

    /// How credentials (`user`) are sent.
    package enum Authentication: Sendable, Equatable {
        case basic, digest, ntlm
    }

    /// Whether `.netrc` is read, and whether an entry must be found there.
    package enum Netrc: Sendable, Equatable {
        case optional, required
    }

    /// `compressed`: ask for gzip, deflate, brotli or zstd and decompress (the body cap counts the
    /// decompressed bytes).
    package var compressed = false
    /// The version to ask for; nil lets libcurl choose.
    package var httpVersion: HTTPVersion? = nil
    /// `cacert`: a CA bundle file.
    package var caCertificate: String? = nil
    /// `cert`: a client certificate file (`file:password` as in Hurl).
    package var clientCertificate: String? = nil
    /// `key`: the client certificate's private key file.
    package var clientKey: String? = nil
    /// `proxy`: `[protocol://]host[:port]`.
    package var proxy: String? = nil
    /// `resolve`: `host:port:address` entries.
    package var resolve: [String] = []
    /// `connect-to`: `host:port:host:port` entries.
    package var connectTo: [String] = []
    /// `ipv4` / `ipv6`: 4 or 6 to resolve names to that family only; 0 for both.
    package var ipFamily = 0
    /// `unix-socket`: connect through this Unix domain socket.
    package var unixSocket: String? = nil
    /// `path-as-is`: do not squash `/../` and `/./` in the URL's path.
    package var pathAsIs = false
    /// `user`: `user:password` credentials.
    package var user: String? = nil
    /// How `user` is sent (`digest`, `ntlm`).
    package var authentication = Authentication.basic
    /// `aws-sigv4`: `provider1[:provider2[:region[:service]]]`, signing with `user`'s credentials.
    package var awsSigV4: String? = nil
    /// `netrc` / `netrc-optional`: read credentials from `.netrc`.
    package var netrc: Netrc? = nil
    /// `netrc-file`: read credentials from this file.
    package var netrcFile: String? = nil

    /// `location-trusted`: send credentials to every host a redirect leads to.
    package var unrestrictedAuth = false
    /// `limit-rate`: at most this many bytes per second, sent and received; nil for no limit.
    package var maxBytesPerSecond: Int? = nil

    /// No setting.
    package init() {}
}
