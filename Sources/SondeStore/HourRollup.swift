import SondeProbe
import SondeRun
import SondeScript
import SondeSupport

/// One hour of one check's runs at one location, as stored in `data/<check>/hours-YYYY-MM.jsonl`.
/// Every figure merges by addition (or bitwise or), so days, months and locations are sums of hours.
package struct HourRollup: Sendable, Equatable {
    /// Start of the hour, epoch milliseconds UTC (`hour`).
    package var hour: Int64
    package var check: String
    package var location: String
    /// Runs started in this hour.
    package var runs: Int64 = 0
    /// Runs where every entry passed.
    package var good: Int64 = 0
    /// Good runs faster than `fastMs` (the `@latency` threshold when the hour was written).
    package var fast: Int64 = 0
    /// The latency threshold behind `fast`, or `nil` when the check had none (then `fast` = `good`).
    package var fastMs: Double?
    /// Failed runs per error kind.
    package var errors: [String: Int64] = [:]
    /// The message of the latest failed run of each error kind (already redacted, as in run lines),
    /// so reports can quote it without reading raw runs.
    package var messages: [String: LatestMessage] = [:]
    /// Sum of run durations, ms.
    package var sumMs: Double = 0
    /// Sums of the phase durations over every run's steps, ms (for mean phase breakdowns).
    package var phaseSums = PhaseSums()
    /// Run durations in fixed buckets.
    package var histogram = LatencyHistogram()
    /// Bit `m` set when a run started in minute `m` of the hour (coverage).
    package var minutes: UInt64 = 0
    /// Bit `m` set when a run that started in minute `m` failed.
    package var badMinutes: UInt64 = 0
    /// Runs started in a maintenance window (`maint`): counted here only, in no other figure.
    package var maintenance: Int64 = 0

    package init(hour: Int64, check: String, location: String, fastMs: Double?) {
        self.hour = hour
        self.check = check
        self.location = location
        self.fastMs = fastMs
    }

    /// Counts one run (which must have started in this hour).
    package mutating func add(_ record: RunRecord) {
        guard record.maintenance == nil else {
            maintenance += 1
            return
        }
        runs += 1
        let minute = UInt64(max(0, min(59, (record.time - hour) / 60_000)))
        minutes |= 1 << minute
        if record.ok {
            good += 1
            if let fastMs {
                if record.durationMs < fastMs { fast += 1 }
            } else {
                fast += 1
            }
        } else {
            let kind = record.error?.kind ?? "internal"
            errors[kind, default: 0] += 1
            badMinutes |= 1 << minute
            if let message = record.error?.message, !message.isEmpty,
                messages[kind].map({ $0.isOlder(than: record.time) }) ?? true
            {
                messages[kind] = LatestMessage(text: message, timeMs: record.time)
            }
        }
        sumMs += record.durationMs
        let phases = record.phaseTotals
        phaseSums.dns += phases.dns
        phaseSums.connect += phases.connect
        phaseSums.tls += phases.tls
        phaseSums.ttfb += phases.ttfb
        phaseSums.transfer += phases.transfer
        histogram.add(record.durationMs)
    }

    /// Adds another rollup of the same hour (another location, or a supplement).
    package mutating func merge(_ other: HourRollup) {
        runs += other.runs
        good += other.good
        fast += other.fast
        for (kind, count) in other.errors { errors[kind, default: 0] += count }
        for (kind, message) in other.messages where messages[kind].map({ message.isNewer(than: $0) }) ?? true {
            messages[kind] = message
        }
        sumMs += other.sumMs
        phaseSums.dns += other.phaseSums.dns
        phaseSums.connect += other.phaseSums.connect
        phaseSums.tls += other.phaseSums.tls
        phaseSums.ttfb += other.phaseSums.ttfb
        phaseSums.transfer += other.phaseSums.transfer
        histogram.merge(other.histogram)
        minutes |= other.minutes
        badMinutes |= other.badMinutes
        maintenance += other.maintenance
    }

    /// Builds the rollups of `records` (one per hour, in time order) for a check.
    static func build(
        _ records: [RunRecord], check: String, location: String,
        fastMs: Double?
    ) -> [HourRollup] {
        var byHour: [Int64: HourRollup] = [:]
        for record in records {
            let hour = UTCTime.hourStart(record.time)
            byHour[hour, default: HourRollup(hour: hour, check: check, location: location, fastMs: fastMs)].add(record)
        }
        return byHour.keys.sorted().compactMap { byHour[$0] }
    }
}

/// The latest message of an error kind in an hour. Its time is known for runs counted here and
/// unknown for messages read back from an hour line; equality is on the text.
package struct LatestMessage: Sendable, Equatable {
    package var text: String
    package var timeMs: Int64?

    /// A run at `timeMs` replaces this message unless this one is known to be later.
    func isOlder(than timeMs: Int64) -> Bool {
        self.timeMs.map { $0 <= timeMs } ?? true
    }

    /// Whether this message should replace `other` when two rollups of one hour merge.
    package func isNewer(than other: LatestMessage) -> Bool {
        guard let mine = timeMs else { return false }
        return other.timeMs.map { mine >= $0 } ?? true
    }

    package static func == (a: LatestMessage, b: LatestMessage) -> Bool { a.text == b.text }
}

/// Sums of phase durations in milliseconds.
package struct PhaseSums: Sendable, Equatable {
    package var dns: Double = 0
    package var connect: Double = 0
    package var tls: Double = 0
    package var ttfb: Double = 0
    package var transfer: Double = 0

    package init() {}
}

/// Encodes and decodes hour lines (fixed key order; see `docs/data-format.md`).
enum HourLine {
    /// One hour line, newline included.
    static func encode(_ rollup: HourRollup) -> [UInt8] {
        var w = LineWriter(capacity: 400)
        w.raw("{\"v\":")
        w.int(RunRecord.formatVersion)
        w.raw(",\"hour\":\"")
        UTCTime.appendRFC3339(rollup.hour, to: &w.bytes, milliseconds: false)
        w.raw("\",\"check\":")
        w.string(rollup.check)
        w.raw(",\"loc\":")
        w.string(rollup.location)
        w.raw(",\"runs\":")
        w.int(rollup.runs)
        w.raw(",\"good\":")
        w.int(rollup.good)
        w.raw(",\"fast\":")
        w.int(rollup.fast)
        w.raw(",\"fast_ms\":")
        if let fastMs = rollup.fastMs { w.millis(fastMs) } else { w.raw("null") }
        w.raw(",\"errors\":{")
        for (index, kind) in rollup.errors.keys.sorted().enumerated() {
            if index > 0 { w.raw(",") }
            w.string(kind)
            w.raw(":")
            w.int(rollup.errors[kind] ?? 0)
        }
        w.raw("}")
        if !rollup.messages.isEmpty {
            w.raw(",\"msgs\":{")
            for (index, kind) in rollup.messages.keys.sorted().enumerated() {
                if index > 0 { w.raw(",") }
                w.string(kind)
                w.raw(":")
                w.string(rollup.messages[kind]?.text ?? "")
            }
            w.raw("}")
        }
        w.raw(",\"sum_ms\":")
        w.millis(rollup.sumMs)
        w.raw(",\"phase_ms\":{\"dns\":")
        w.millis(rollup.phaseSums.dns)
        w.raw(",\"connect\":")
        w.millis(rollup.phaseSums.connect)
        w.raw(",\"tls\":")
        w.millis(rollup.phaseSums.tls)
        w.raw(",\"ttfb\":")
        w.millis(rollup.phaseSums.ttfb)
        w.raw(",\"transfer\":")
        w.millis(rollup.phaseSums.transfer)
        w.raw("},\"hist\":[")
        var counts = rollup.histogram.counts
        while counts.count > 1, counts.last == 0 { counts.removeLast() }
        for (index, count) in counts.enumerated() {
            if index > 0 { w.raw(",") }
            w.int(count)
        }
        w.raw("],\"mins\":\"")
        hex(rollup.minutes, &w)
        w.raw("\",\"bad_mins\":\"")
        hex(rollup.badMinutes, &w)
        w.raw("\"")
        if rollup.maintenance > 0 {
            w.raw(",\"maint\":")
            w.int(rollup.maintenance)
        }
        w.raw("}\n")
        return w.bytes
    }

    /// The rollup of one hour line; a line of another format version or a malformed one throws.
    static func decode(_ line: UnsafeBufferPointer<UInt8>) throws(LineError) -> HourRollup {
        var s = LineScanner(line)
        var version: Int64?
        var hour: Int64?
        var rollup = HourRollup(hour: 0, check: "", location: "", fastMs: nil)
        try s.object { (s: inout LineScanner, key) throws(LineError) in
            if LineScanner.equals(key, "v") {
                version = try s.integer()
            } else if LineScanner.equals(key, "hour") {
                guard let ms = UTCTime.parseRFC3339(try s.rawString()) else {
                    throw .malformed("hour is not an RFC 3339 time")
                }
                hour = UTCTime.hourStart(ms)
            } else if LineScanner.equals(key, "check") {
                rollup.check = try s.string()
            } else if LineScanner.equals(key, "loc") {
                rollup.location = try s.stringOrNull() ?? ""
            } else if LineScanner.equals(key, "runs") {
                rollup.runs = try s.integer()
            } else if LineScanner.equals(key, "good") {
                rollup.good = try s.integer()
            } else if LineScanner.equals(key, "fast") {
                rollup.fast = try s.integer()
            } else if LineScanner.equals(key, "fast_ms") {
                rollup.fastMs = try s.numberOrNull()
            } else if LineScanner.equals(key, "errors") {
                try s.object { (s: inout LineScanner, kind) throws(LineError) in
                    rollup.errors[String(decoding: kind, as: UTF8.self), default: 0] += try s.integer()
                }
            } else if LineScanner.equals(key, "msgs") {
                try s.object { (s: inout LineScanner, kind) throws(LineError) in
                    rollup.messages[String(decoding: kind, as: UTF8.self)] = LatestMessage(text: try s.string())
                }
            } else if LineScanner.equals(key, "sum_ms") {
                rollup.sumMs = try s.number()
            } else if LineScanner.equals(key, "phase_ms") {
                try s.object { (s: inout LineScanner, phase) throws(LineError) in
                    let value = try s.number()
                    if LineScanner.equals(phase, "dns") {
                        rollup.phaseSums.dns = value
                    } else if LineScanner.equals(phase, "connect") {
                        rollup.phaseSums.connect = value
                    } else if LineScanner.equals(phase, "tls") {
                        rollup.phaseSums.tls = value
                    } else if LineScanner.equals(phase, "ttfb") {
                        rollup.phaseSums.ttfb = value
                    } else if LineScanner.equals(phase, "transfer") {
                        rollup.phaseSums.transfer = value
                    }
                }
            } else if LineScanner.equals(key, "hist") {
                var counts: [Int64] = []
                try s.array { (s: inout LineScanner) throws(LineError) in counts.append(try s.integer()) }
                rollup.histogram = LatencyHistogram(counts: counts)
            } else if LineScanner.equals(key, "mins") {
                rollup.minutes = try mask(&s)
            } else if LineScanner.equals(key, "bad_mins") {
                rollup.badMinutes = try mask(&s)
            } else if LineScanner.equals(key, "maint") {
                rollup.maintenance = max(0, try s.integer())
            } else {
                try s.skipValue()
            }
        }
        s.skipSpace()
        guard s.atEnd else { throw .malformed("data after the object") }
        guard let version else { throw .malformed("missing v") }
        guard version == RunRecord.formatVersion else { throw .unknownVersion(version) }
        guard let hour else { throw .malformed("missing hour") }
        guard !rollup.check.isEmpty else { throw .malformed("missing check") }
        guard rollup.fast >= 0, rollup.fast <= rollup.good, rollup.good <= rollup.runs,
            rollup.errors.values.allSatisfy({ $0 >= 0 })
        else {
            throw .malformed("counts out of range (need 0 ≤ fast ≤ good ≤ runs, error counts ≥ 0)")
        }
        rollup.hour = hour
        return rollup
    }

    private static func hex(_ value: UInt64, _ w: inout LineWriter) {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0x30, count: 15)
        var v = value
        for index in stride(from: 14, through: 0, by: -1) {
            out[index] = digits[Int(v & 0xF)]
            v >>= 4
        }
        w.bytes.append(contentsOf: out)
    }

    private static func mask(_ s: inout LineScanner) throws(LineError) -> UInt64 {
        let raw = try s.rawString()
        guard raw.count <= 16 else { throw .malformed("minute mask longer than 16 hex digits") }
        var v: UInt64 = 0
        for c in raw {
            let d: UInt64
            switch c {
            case 0x30...0x39: d = UInt64(c - 0x30)
            case 0x61...0x66: d = UInt64(c - 0x61 + 10)
            case 0x41...0x46: d = UInt64(c - 0x41 + 10)
            default: throw .malformed("minute mask is not hexadecimal")
            }
            v = v << 4 | d
        }
        return v & ((1 << 60) - 1)
    }
}
