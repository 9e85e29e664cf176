import Foundation
import SondeProbe
import SondeScript
import SondeSupport

/// Builds the variables of a run from `--var`, `--vars-file`, `--secret` and the environment
/// (`SONDE_VAR_name`, `SONDE_SECRET_name`; README.md, "sonde check"). Later sources override
/// earlier ones: environment, then vars files, then `--var`, then secrets.
package struct VariableSources: Sendable {
    package var environment: [String: String] = [:]
    package var varsFiles: [String] = []
    package var vars: [String] = []
    package var secrets: [String] = []

    package init(
        environment: [String: String] = [:], varsFiles: [String] = [], vars: [String] = [],
        secrets: [String] = []
    ) {
        self.environment = environment
        self.varsFiles = varsFiles
        self.vars = vars
        self.secrets = secrets
    }

    /// Resolves every source; values are typed like Hurl's (`5` is an integer, `true` a boolean),
    /// secrets are always strings.
    package func resolve() throws(VariableError) -> Variables {
        var variables = Variables()
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) {
            if key.hasPrefix("SONDE_VAR_"), key.count > 10 {
                variables.set(String(key.dropFirst(10)), Self.typed(value))
            }
        }
        for file in varsFiles {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw .unreadableFile(file)
            }
            guard let text = String(data: data, encoding: .utf8) else { throw .notUTF8(file) }
            for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
                if line.isEmpty || line.hasPrefix("#") { continue }
                guard let (name, value) = Self.split(line) else {
                    throw .badFileLine(file: file, line: number + 1, text: line)
                }
                variables.set(name, Self.typed(value))
            }
        }
        for item in vars {
            guard let (name, value) = Self.split(item) else { throw .badArgument(option: "--var", text: item) }
            variables.set(name, Self.typed(value))
        }
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) {
            if key.hasPrefix("SONDE_SECRET_"), key.count > 13 {
                variables.set(String(key.dropFirst(13)), .string(value), secret: true)
            }
        }
        for item in secrets {
            guard let (name, value) = Self.split(item) else { throw .badArgument(option: "--secret", text: item) }
            variables.set(name, .string(value), secret: true)
        }
        return variables
    }

    /// Splits `name=value`; the name must be a valid template variable name.
    static func split(_ text: String) -> (String, String)? {
        guard let equals = text.firstIndex(of: "=") else { return nil }
        let name = String(text[..<equals]).trimmingCharacters(in: .whitespaces)
        guard isValidName(name) else { return nil }
        return (name, String(text[text.index(after: equals)...]))
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else {
            return false
        }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-")
        }
    }

    /// Hurl's typing of variable values given as text.
    static func typed(_ text: String) -> Value {
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default: break
        }
        if let int = Int64(text) { return .integer(int) }
        if text.contains("."), !text.hasPrefix("."), !text.hasSuffix("."), let double = Double(text),
            double.isFinite, text.allSatisfy({ "0123456789.-".contains($0) })
        {
            return .float(double)
        }
        return .string(text)
    }
}

/// A variable given on the command line or in a file that cannot be used.
package enum VariableError: Error, Sendable, CustomStringConvertible {
    case badArgument(option: String, text: String)
    case unreadableFile(String)
    case notUTF8(String)
    case badFileLine(file: String, line: Int, text: String)

    package var description: String {
        switch self {
        case .badArgument(let option, let text):
            // A malformed --secret may still hold the secret: never echo it.
            let shown = option == "--secret" ? "***" : text
            return "\(option) '\(shown)': expected name=value with a name of letters, digits, _ or -"
        case .unreadableFile(let file):
            return "--vars-file \(file): cannot read the file"
        case .notUTF8(let file):
            return "--vars-file \(file): the file is not UTF-8 text"
        case .badFileLine(let file, let line, let text):
            return "\(file):\(line): expected name=value, found '\(text)'"
        }
    }
}
