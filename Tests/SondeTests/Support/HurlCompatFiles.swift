import Foundation

/// The Hurl compatibility files under `Tests/hurl-compat/` (one folder per feature), shared by the
/// request-side and the query-side suites.
enum HurlCompatFiles {
    /// The folder of every compatibility file.
    static let root = packageRoot + "/Tests/hurl-compat"

    /// Every `.hurl` file under `folder` (any depth), as full paths, sorted.
    static func files(under folder: String) -> [String] {
        guard let names = FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] else { return [] }
        return names.filter { $0.hasSuffix(".hurl") }.sorted().map { folder + "/" + $0 }
    }

    /// The value of a `# key: value` header line of a compatibility file.
    static func header(_ key: String, in text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("# \(key): ") {
            return String(line.dropFirst(key.count + 4)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
