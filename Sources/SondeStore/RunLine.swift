import SondeProbe
import SondeRun
import SondeScript
import SondeSupport

/// Encodes and decodes run lines: JSON objects with a fixed key order, one per line. The decoder is
/// a byte scanner (no Foundation JSON on the read path: a report reads millions of lines).
package enum RunLine {
    /// The line for `record`, ending in `\n`.
    static func encode(_ record: RunRecord) -> [UInt8] {
        var w = LineWriter(capacity: 160 + record.steps.count * 100)
        w.raw("{\"v\":")
        w.int(RunRecord.formatVersion)
        w.raw(",\"t\":\"")
        UTCTime.appendRFC3339(record.time, to: &w.bytes, milliseconds: true)
        w.raw("\",\"check\":")
        w.string(record.check)
        w.raw(",\"loc\":")
        w.string(record.location)
        w.raw(",\"ok\":")
        w.bool(record.ok)
        w.raw(",\"ms\":")
        w.millis(record.durationMs)
        w.raw(",\"late_ms\":")
        w.millis(record.lateMs)
        if let error = record.error {
            w.raw(",\"err\":{\"kind\":")
            w.string(error.kind)
            w.raw(",\"entry\":")
            w.int(Int64(error.entry))
            w.raw(",\"line\":")
            w.int(Int64(error.line))
            w.raw(",\"msg\":")
            w.string(error.message)
            w.raw("}")
        }
        w.raw(",\"steps\":[")
        for (index, step) in record.steps.enumerated() {
            if index > 0 { w.raw(",") }
            w.raw("{\"status\":")
            w.int(Int64(step.status))
            w.raw(",\"dns\":")
            w.millis(step.timings.dns)
            w.raw(",\"connect\":")
            w.millis(step.timings.connect)
            w.raw(",\"tls\":")
            w.millis(step.timings.tls)
            w.raw(",\"ttfb\":")
            w.millis(step.timings.ttfb)
            w.raw(",\"transfer\":")
            w.millis(step.timings.transfer)
            w.raw(",\"total\":")
            w.millis(step.timings.total)
            w.raw(",\"bytes\":")
            w.int(Int64(step.timings.bytes))
            w.raw("}")
        }
        w.raw("]")
        if let days = record.certDays {
            w.raw(",\"cert_days\":")
            w.millis(days)
        }
        if let window = record.maintenance {
            w.raw(",\"maintenance\":")
            w.string(window)
        }
        w.raw("}\n")
        return w.bytes
    }

    /// Decodes one line (without its `\n`). Keys may come in any order; unknown keys are ignored.
    /// Requires `v`, `t`, `check` and `ok`; `loc` defaults to `""`, numbers to 0.
    package static func decode(_ line: UnsafeBufferPointer<UInt8>) throws(LineError) -> RunRecord {
        var s = LineScanner(line)
        var version: Int64?
        var time: Int64?
        var check: String?
        var ok: Bool?
        var record = RunRecord(time: 0, check: "", location: "", ok: false, durationMs: 0, lateMs: 0)
        try s.object { (s: inout LineScanner, key) throws(LineError) in
            switch key.count {
            case 1 where LineScanner.equals(key, "v"): version = try s.integer()
            case 1 where LineScanner.equals(key, "t"):
                let raw = try s.rawString()
                guard let ms = UTCTime.parseRFC3339(raw) else { throw .malformed("t is not an RFC 3339 time") }
                time = ms
            case 5 where LineScanner.equals(key, "check"): check = try s.string()
            case 3 where LineScanner.equals(key, "loc"): record.location = try s.stringOrNull() ?? ""
            case 2 where LineScanner.equals(key, "ok"): ok = try s.bool()
            case 2 where LineScanner.equals(key, "ms"): record.durationMs = try s.number()
            case 7 where LineScanner.equals(key, "late_ms"): record.lateMs = try s.numberOrNull() ?? 0
            case 3 where LineScanner.equals(key, "err"):
                if !s.takeLiteral("null") { record.error = try decodeError(&s) }
            case 5 where LineScanner.equals(key, "steps"):
                if !s.takeLiteral("null") {
                    try s.array { (s: inout LineScanner) throws(LineError) in record.steps.append(try decodeStep(&s)) }
                }
            case 9 where LineScanner.equals(key, "cert_days"): record.certDays = try s.numberOrNull()
            case 11 where LineScanner.equals(key, "maintenance"): record.maintenance = try s.stringOrNull()
            default: try s.skipValue()
            }
        }
        s.skipSpace()
        guard s.atEnd else { throw .malformed("data after the object") }
        guard let version else { throw .malformed("missing v") }
        guard version == RunRecord.formatVersion else { throw .unknownVersion(version) }
        guard let time else { throw .malformed("missing t") }
        guard let check, !check.isEmpty else { throw .malformed("missing check") }
        guard let ok else { throw .malformed("missing ok") }
        record.time = time
        record.check = check
        record.ok = ok
        return record
    }

    /// The start time of a run line without decoding it: the `"t":"…"` member within the first 64
    /// bytes (where writers following the documented key order put it); nil when not found there.
    static func peekTime(_ line: UnsafeBufferPointer<UInt8>) -> Int64? {
        let limit = min(line.count, 64)
        var i = 0
        while i + 5 <= limit {
            if line[i] == 0x22, line[i + 1] == 0x74, line[i + 2] == 0x22, line[i + 3] == 0x3A, line[i + 4] == 0x22 {
                let start = i + 5
                var end = start
                while end < line.count, end < start + 40, line[end] != 0x22 { end += 1 }
                guard end < line.count, line[end] == 0x22 else { return nil }
                return UTCTime.parseRFC3339(UnsafeBufferPointer(rebasing: line[start..<end]))
            }
            i += 1
        }
        return nil
    }

    /// Decodes one line given as bytes (tests and tools).
    package static func decode(_ line: [UInt8]) throws(LineError) -> RunRecord {
        do {
            return try line.withUnsafeBufferPointer { buffer in try decode(buffer) }
        } catch let error as LineError {
            throw error
        } catch {
            throw .malformed("\(error)")
        }
    }

    private static func decodeError(_ s: inout LineScanner) throws(LineError) -> RunError {
        var error = RunError(kind: "internal", entry: 0, line: 0, message: "")
        try s.object { (s: inout LineScanner, key) throws(LineError) in
            if LineScanner.equals(key, "kind") {
                error.kind = try s.string()
            } else if LineScanner.equals(key, "entry") {
                error.entry = Int(try s.integer())
            } else if LineScanner.equals(key, "line") {
                error.line = Int(try s.integer())
            } else if LineScanner.equals(key, "msg") {
                error.message = try s.stringOrNull() ?? ""
            } else {
                try s.skipValue()
            }
        }
        return error
    }

    private static func decodeStep(_ s: inout LineScanner) throws(LineError) -> RunStep {
        var step = RunStep(status: 0)
        try s.object { (s: inout LineScanner, key) throws(LineError) in
            if LineScanner.equals(key, "status") {
                step.status = Int(try s.integer())
            } else if LineScanner.equals(key, "dns") {
                step.timings.dns = try s.numberOrNull() ?? 0
            } else if LineScanner.equals(key, "connect") {
                step.timings.connect = try s.numberOrNull() ?? 0
            } else if LineScanner.equals(key, "tls") {
                step.timings.tls = try s.numberOrNull() ?? 0
            } else if LineScanner.equals(key, "ttfb") {
                step.timings.ttfb = try s.numberOrNull() ?? 0
            } else if LineScanner.equals(key, "transfer") {
                step.timings.transfer = try s.numberOrNull() ?? 0
            } else if LineScanner.equals(key, "total") {
                step.timings.total = try s.numberOrNull() ?? 0
            } else if LineScanner.equals(key, "bytes") {
                step.timings.bytes = Int(try s.integer())
            } else {
                try s.skipValue()
            }
        }
        return step
    }
}
