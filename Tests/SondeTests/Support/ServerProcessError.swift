/// Why a server child (`ServerProcess`) could not be used.
enum ServerProcessError: Error, CustomStringConvertible {
    case notReady(name: String, log: String)
    case status(name: String, path: String, status: Int, body: String)

    var description: String {
        switch self {
        case .notReady(let name, let log):
            return "\(name) did not become ready in 60 s (three ports tried); its log:\n\(log)"
        case .status(let name, let path, let status, let body):
            return "\(name) answered \(status) to GET \(path): \(body.prefix(500))"
        }
    }
}
