import Foundation
import SondeSupport

/// Reads the files a check names (`file,name;` bodies, multipart files and predicate values such
/// as `body == file,name;`) when the check is
/// loaded, so that no run reads a file: a name is relative to the check file's folder, and the
/// file must lie inside that folder (or inside the folder given with `--file-root`). A name that
/// leads outside (`../secret`, an absolute path, a symbolic link pointing away) is an error.
enum BodyFileLoader {
    /// The largest file a check may send or compare (8 MiB, the response body cap).
    static let maxFileBytes = 8 << 20

    /// `script` with the contents of every file it names.
    static func load(_ script: CheckScript, root: String?) throws(ParseError) -> CheckScript {
        // Nothing to read (most checks): the script as it is, its entries not copied.
        guard script.entries.contains(where: \.namesFiles) else { return script }
        var loaded = script
        var entries = script.entries
        let folder = (script.path as NSString).deletingLastPathComponent
        let base = folder.isEmpty ? "." : folder
        let allowed = canonical(root ?? base)
        for index in entries.indices {
            var entry = entries[index]
            if let body = entry.request.body {
                entry.request.body = try load(body, base: base, allowed: allowed, path: script.path)
            }
            for (k, part) in entry.request.multipart.enumerated() {
                if case .file(let name, let file, let type) = part {
                    let read = try load(file, base: base, allowed: allowed, path: script.path)
                    entry.request.multipart[k] = .file(name: name, file: read, contentType: type)
                }
            }
            if let body = entry.response?.body {
                entry.response?.body = try load(body, base: base, allowed: allowed, path: script.path)
            }
            for (k, assert) in (entry.response?.asserts ?? []).enumerated() {
                if case .file(let file)? = assert.predicate.function.value {
                    let read = try load(file, base: base, allowed: allowed, path: script.path)
                    entry.response?.asserts[k].predicate.function = assert.predicate.function.with(.file(read))
                }
            }
            entries[index] = entry
        }
        loaded.entries = entries
        return loaded
    }

    private static func load(_ body: Body, base: String, allowed: String, path: String) throws(ParseError) -> Body {
        guard case .file(let file) = body.kind else { return body }
        var read = body
        read.kind = .file(try load(file, base: base, allowed: allowed, path: path))
        return read
    }

    private static func load(_ file: BodyFile, base: String, allowed: String, path: String) throws(ParseError)
        -> BodyFile
    {
        func fail(_ message: String) -> ParseError {
            .syntax(path: path, location: file.location, message: message)
        }
        let joined = file.name.hasPrefix("/") ? file.name : base + "/" + file.name
        let resolved = canonical(joined)
        guard resolved == allowed || resolved.hasPrefix(allowed.hasSuffix("/") ? allowed : allowed + "/") else {
            throw fail(
                "file,\(file.name); is outside \(allowed): a check reads files in its own folder only (allow another folder with --file-root DIR)"
            )
        }
        var info = stat()
        guard stat(resolved, &info) == 0 else { throw fail("file,\(file.name);: no such file (\(resolved))") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw fail("file,\(file.name);: not a regular file") }
        guard info.st_size <= maxFileBytes else {
            throw fail("file,\(file.name);: the file is \(info.st_size) bytes; at most \(maxFileBytes) (8 MiB)")
        }
        guard let data = FileManager.default.contents(atPath: resolved) else {
            throw fail("file,\(file.name);: cannot read the file (check its permissions)")
        }
        var read = file
        read.contents = [UInt8](data)
        return read
    }

    /// The absolute path with symbolic links and `..` resolved (as far as the path exists).
    static func canonical(_ path: String) -> String {
        let absolute =
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        if let real = realpath(absolute, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        return (absolute as NSString).standardizingPath
    }
}

extension Entry {
    /// Whether the entry names a file (`file,name;` in a request or response body, a multipart
    /// file part or an assert's predicate value) that loading reads.
    var namesFiles: Bool {
        func isFile(_ body: Body?) -> Bool {
            if case .file? = body?.kind { return true }
            return false
        }
        if isFile(request.body) || isFile(response?.body) { return true }
        let predicateFile = response?.asserts.contains { assert in
            if case .file? = assert.predicate.function.value { return true }
            return false
        }
        if predicateFile == true { return true }
        return request.multipart.contains { part in
            if case .file = part { return true }
            return false
        }
    }
}
