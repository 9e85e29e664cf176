import Foundation

/// Client certificates made with openssl at test time in a temporary folder: a CA, a client
/// certificate it issued (`CN=sonde-client`) with its key plain and encrypted (password
/// `hunter2`) and both in one file, and a self-signed certificate no CA vouches for.
struct ClientCertificates: Sendable {
    let folder: TemporaryFolder

    init() throws {
        folder = try TemporaryFolder()
        let dir = folder.path
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try TLSServer.run(
            "/usr/bin/openssl",
            ["req", "-x509"] + ec + [
                "-days", "30", "-subj", "/CN=sonde-test-ca", "-keyout", dir + "/ca.key", "-out", dir + "/ca.pem",
            ])
        try TLSServer.run(
            "/usr/bin/openssl",
            ["req", "-new"] + ec + [
                "-subj", "/CN=sonde-client", "-keyout", dir + "/client.key", "-out", dir + "/client.csr",
            ])
        try TLSServer.run(
            "/usr/bin/openssl",
            [
                "x509", "-req", "-in", dir + "/client.csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key",
                "-CAcreateserial", "-days", "30", "-out", dir + "/client.pem",
            ])
        try TLSServer.run(
            "/usr/bin/openssl",
            [
                "pkey", "-in", dir + "/client.key", "-aes256", "-passout", "pass:hunter2", "-out",
                dir + "/client-enc.key",
            ])
        try TLSServer.run(
            "/usr/bin/openssl",
            ["req", "-x509"] + ec + [
                "-days", "30", "-subj", "/CN=sonde-stranger", "-keyout", dir + "/other.key", "-out", dir + "/other.pem",
            ])
        let combined =
            try String(contentsOfFile: dir + "/client.pem", encoding: .utf8)
            + String(contentsOfFile: dir + "/client.key", encoding: .utf8)
        try combined.write(toFile: dir + "/client-combined.pem", atomically: true, encoding: .utf8)
    }

    /// The CA that issued the client certificate (the server's `-CAfile`).
    var caPath: String { folder.path + "/ca.pem" }

    /// The variables of the client-certificate compatibility files: `client_cert`, `client_key`,
    /// `client_key_encrypted`, `client_combined`, `other_cert`, `other_key`.
    var variables: [String: String] {
        let dir = folder.path
        return [
            "client_cert": dir + "/client.pem", "client_key": dir + "/client.key",
            "client_key_encrypted": dir + "/client-enc.key", "client_combined": dir + "/client-combined.pem",
            "other_cert": dir + "/other.pem", "other_key": dir + "/other.key",
        ]
    }

    func cleanup() { folder.cleanup() }
}
