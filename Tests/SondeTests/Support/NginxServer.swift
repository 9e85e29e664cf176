import Foundation

/// A private nginx (the Debian package's binary) in one process (`master_process off`), with its
/// config, logs, temp paths and a self-signed certificate for `localhost` in a temporary folder:
/// HTTPS with HTTP/2 by ALPN on a free loopback port, and plain HTTP on a Unix domain socket in
/// that folder. `GET /version` answers the protocol nginx served (`HTTP/2.0`, `HTTP/1.1`),
/// `GET /socket` on the socket `unix socket`. Stopped by its own pid.
final class NginxServer: Sendable {
    let server: ServerProcess
    let folder: TemporaryFolder

    static let binary = "/usr/sbin/nginx"

    init() async throws {
        let folder = try TemporaryFolder()
        self.folder = folder
        let dir = folder.path
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        try TLSServer.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                "-subj", "/CN=localhost", "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem",
            ])
        server = try await ServerProcess.start(
            "nginx", binary: Self.binary, in: dir,
            // A TLS port answers a plain-HTTP request with a 400 of its own: it is listening.
            ready: { port in (try? RawHTTPClient(port: port, timeoutSeconds: 2).request("GET", "/")) != nil },
            arguments: { port in
                // A socket left by an attempt that lost its port would make the next bind fail.
                try? FileManager.default.removeItem(atPath: dir + "/sonde.sock")
                try Self.config(dir: dir, port: port).write(
                    toFile: dir + "/nginx.conf", atomically: true, encoding: .utf8)
                return ["-p", dir + "/", "-c", dir + "/nginx.conf", "-e", dir + "/error.log"]
            })
    }

    /// The HTTPS address, as `https://localhost:PORT` (the certificate's name).
    var baseURL: String { "https://localhost:\(server.port)" }
    var port: UInt16 { server.port }
    /// The certificate nginx presents, as a CA bundle that trusts it.
    var certificatePath: String { folder.path + "/cert.pem" }
    /// The Unix domain socket of the plain-HTTP server.
    var socketPath: String { folder.path + "/sonde.sock" }

    /// Stops nginx by its pid with SIGKILL (it keeps nothing to flush; a single-process nginx
    /// may leave SIGTERM pending for seconds) and removes its folder.
    func stop() {
        server.kill()
        server.process.waitUntilExit()
        folder.cleanup()
    }

    static func config(dir: String, port: UInt16) -> String {
        """
        daemon off;
        master_process off;
        pid \(dir)/nginx.pid;
        error_log \(dir)/error.log warn;
        events { worker_connections 64; }
        http {
          access_log off;
          client_body_temp_path \(dir)/tmp/body;
          proxy_temp_path \(dir)/tmp/proxy;
          fastcgi_temp_path \(dir)/tmp/fastcgi;
          uwsgi_temp_path \(dir)/tmp/uwsgi;
          scgi_temp_path \(dir)/tmp/scgi;
          server {
            listen 127.0.0.1:\(port) ssl http2;
            ssl_certificate \(dir)/cert.pem;
            ssl_certificate_key \(dir)/key.pem;
            location = /version { return 200 "$server_protocol"; }
            location / { return 200 "ok"; }
          }
          server {
            listen unix:\(dir)/sonde.sock;
            location = /socket { return 200 "unix socket"; }
            location = /version { return 200 "$server_protocol"; }
          }
        }

        """
    }
}
