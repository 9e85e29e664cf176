import Foundation
import Synchronization

@testable import SondeServe
@testable import SondeSupport

/// A webhook receiver for Alertmanager on loopback: it keeps every notification it is sent (the
/// path it was posted to and the JSON body) and answers 200.
final class AlertReceiver: Sendable {
    /// One notification: Alertmanager's webhook body, posted to `path`.
    struct Notification: Sendable {
        var path: String
        var body: Value

        /// `status` of the notification: `firing` or `resolved`.
        var status: String? { AlertReceiver.string(body, "status") }

        /// The label sets of its alerts.
        var alertLabels: [[String: String]] {
            guard case .list(let alerts)? = AlertReceiver.member(body, "alerts") else { return [] }
            return alerts.map { alert in
                guard case .object(let fields)? = AlertReceiver.member(alert, "labels") else { return [:] }
                var labels: [String: String] = [:]
                for (key, value) in fields { if case .string(let text) = value { labels[key] = text } }
                return labels
            }
        }
    }

    let server: HTTPServer
    private let list: Box

    private final class Box: Sendable {
        let notifications = Mutex<[Notification]>([])
    }

    init() throws {
        let list = Box()
        server = try HTTPServer(host: "127.0.0.1", port: 0) { request in
            if let body = try? JSON.parse(request.body) {
                list.notifications.withLock { $0.append(Notification(path: request.path, body: body)) }
            }
            return .text("ok")
        }
        self.list = list
    }

    deinit { server.stop() }

    var baseURL: String { server.baseURL }

    /// Every notification so far, in the order they came.
    var notifications: [Notification] { list.notifications.withLock { $0 } }

    /// True when a notification to `path` with `status` carries an alert with these labels (and,
    /// with `exactly`, no other label).
    func received(path: String, status: String, labels: [String: String], exactly: Bool = false) -> Bool {
        notifications.contains { note in
            note.path == path && note.status == status
                && note.alertLabels.contains { alert in
                    exactly ? alert == labels : labels.allSatisfy { alert[$0.key] == $0.value }
                }
        }
    }

    /// The notifications, one line each, for a failure message.
    var summary: String {
        notifications.map { "\($0.path) \($0.status ?? "?") \($0.alertLabels)" }.joined(separator: "\n")
    }

    /// The member `key` of a JSON object.
    static func member(_ value: Value?, _ key: String) -> Value? {
        guard case .object(let fields)? = value else { return nil }
        return fields.first { $0.key == key }?.value
    }

    /// The string member `key` of a JSON object.
    static func string(_ value: Value?, _ key: String) -> String? {
        if case .string(let s)? = member(value, key) { return s }
        return nil
    }
}
