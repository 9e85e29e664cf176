import Foundation
import SondeSupport

/// Finds and reads check scripts: a path is a `.hurl` file or a folder of them.
package enum ScriptLoader {
    /// Expands files and folders into the `.hurl` files to run, sorted, without duplicates.
    /// A folder is searched recursively; hidden entries are skipped.
    package static func expand(_ paths: [String]) throws(LoadError) -> [String] {
        var files: [String] = []
        var seen = Set<String>()
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .notFound(path)
            }
            if isDirectory.boolValue {
                let found = hurlFiles(in: path)
                if found.isEmpty { throw .noScripts(path) }
                for file in found where seen.insert(file).inserted { files.append(file) }
            } else if seen.insert(path).inserted {
                files.append(path)
            }
        }
        return files
    }

    /// The largest check file read, in bytes (1 MiB): a check is a few requests, and a bigger file
    /// is refused before it is read.
    package static let maxFileBytes = 1 << 20

    /// Reads and parses one script; a file over `maxFileBytes` is refused unread. The files the
    /// script names (`file,name;`) are read too, from the script's folder or from under `fileRoot`.
    package static func load(_ path: String, fileRoot: String? = nil) throws(LoadError) -> CheckScript {
        try parse(read(path), path: path, fileRoot: fileRoot)
    }

    /// The bytes of one check file; a file over `maxFileBytes` is refused unread.
    static func read(_ path: String) throws(LoadError) -> Data {
        var info = stat()
        if stat(path, &info) == 0, info.st_size > maxFileBytes { throw .tooLarge(path, bytes: Int(info.st_size)) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path)
        }
        if data.count > maxFileBytes { throw .tooLarge(path, bytes: data.count) }
        return data
    }

    /// Parses the bytes of the check file at `path` and reads the files it names.
    static func parse(_ data: Data, path: String, fileRoot: String?) throws(LoadError) -> CheckScript {
        do {
            let script = try ScriptParser.parse(bytes: [UInt8](data), path: path)
            return try BodyFileLoader.load(script, root: fileRoot)
        } catch {
            throw .parse(error, source: String(decoding: data, as: UTF8.self))
        }
    }

    private static func hurlFiles(in directory: String) -> [String] {
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        guard let enumerator = FileManager.default.enumerator(atPath: base) else { return [] }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let components = relative.split(separator: "/")
            if components.contains(where: { $0.hasPrefix(".") }) { continue }
            if relative.hasSuffix(".hurl") { files.append(base + "/" + relative) }
        }
        return files.sorted()
    }
}

/// Why scripts could not be loaded.
package enum LoadError: Error, Sendable, CustomStringConvertible {
    case notFound(String)
    case noScripts(String)
    case unreadable(String)
    /// The file is larger than `ScriptLoader.maxFileBytes`.
    case tooLarge(String, bytes: Int)
    /// The file was read but does not parse; `source` is kept for rendering.
    case parse(ParseError, source: String)

    package var description: String {
        switch self {
        case .notFound(let path): return "\(path): no such file or folder"
        case .noScripts(let path): return "\(path): no .hurl files in this folder"
        case .unreadable(let path): return "\(path): cannot read the file (check its permissions)"
        case .tooLarge(let path, let bytes):
            return
                "\(path): the file is \(bytes) bytes; a check file is at most \(ScriptLoader.maxFileBytes) bytes (1 MiB), split it or trim it"
        case .parse(let error, _): return error.description
        }
    }
}
