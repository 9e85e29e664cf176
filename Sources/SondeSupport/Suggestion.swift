/// "Did you mean ...?" suggestions for misspelt names.
package enum Suggestion {
    /// The candidate closest to `word` by edit distance, when close enough to be a likely typo.
    package static func closest(to word: String, in candidates: [String]) -> String? {
        let lower = word.lowercased()
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let d = distance(lower, candidate.lowercased())
            if d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        guard let best else { return nil }
        let allowed = max(1, min(3, (word.count + 2) / 3))
        return best.distance <= allowed ? best.candidate : nil
    }

    /// Levenshtein distance over Unicode scalars (inputs are short names).
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars.prefix(256))
        let y = Array(b.unicodeScalars.prefix(256))
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }
}
