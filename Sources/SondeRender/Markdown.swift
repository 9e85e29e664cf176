import SondeIncidents
import SondeProbe
import SondeRun
import SondeSLO
import SondeScript
import SondeStore
import SondeSupport

/// Text for Markdown tables and prose: whatever a data file or a response body put in a message
/// must not break the table or inject HTML.
enum Markdown {
    /// Escapes table pipes, HTML, emphasis and link syntax; folds line breaks and control characters
    /// to spaces.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "|": out += "\\|"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\\", "`", "*", "_", "[", "]", "#", "~": out += "\\" + String(scalar)
            case "\n", "\r", "\t": out += " "
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { out += " " } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    /// A relative link target for a file name (spaces and the like percent-encoded).
    static func link(_ path: String) -> String {
        var out = ""
        for byte in path.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if c.isASCII, c.isLetter || c.isNumber || "-._~/".contains(c) {
                out.append(c)
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }

    /// `| a | b |` from cells (already escaped).
    static func row(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |\n" }

    /// A header row and its separator; `right` marks right-aligned (numeric) columns.
    static func header(_ titles: [String], right: Set<Int> = []) -> String {
        row(titles) + "|" + titles.indices.map { right.contains($0) ? " ---: |" : " --- |" }.joined() + "\n"
    }
}

extension String {
    func leftPadded(_ width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
