/// Percentages as reports print them: truncated, never rounded up (README.md, "sonde report":
/// 99.9996% shows as 99.999%, not 100%).
package enum PercentText {
    /// `numerator ÷ denominator` as a percentage truncated to `decimals`, in integer arithmetic
    /// (exact): `99.930%`. `-` when the denominator is 0.
    package static func ratio(_ numerator: Int64, _ denominator: Int64, decimals: Int = 3) -> String {
        guard denominator > 0 else { return "-" }
        let scale = power(decimals)
        let clamped = max(0, min(numerator, denominator))
        // 100 × scale × numerator can overflow for huge counts: split the division.
        let whole = clamped * 100 / denominator
        let rest = clamped * 100 % denominator
        let fraction = rest * scale / denominator
        return format(whole * scale + fraction, decimals: decimals, negative: false)
    }

    /// A ratio (0.305 → `30.5%`) truncated toward zero to `decimals`. A tiny tolerance absorbs
    /// floating-point error (0.999 must print 99.9%, not 99.899%).
    package static func truncated(_ value: Double, decimals: Int = 1) -> String {
        guard value.isFinite else { return "-" }
        let scale = Double(power(decimals))
        let scaled = (abs(value) * 100 * scale + 1e-6).rounded(.down)
        guard scaled < 9e15 else { return value < 0 ? "-∞%" : "∞%" }
        return format(Int64(scaled), decimals: decimals, negative: value < 0 && scaled > 0)
    }

    private static func format(_ units: Int64, decimals: Int, negative: Bool) -> String {
        let scale = power(decimals)
        var text = (negative ? "-" : "") + String(units / scale)
        if decimals > 0 {
            let fraction = String(units % scale)
            text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return text + "%"
    }

    private static func power(_ decimals: Int) -> Int64 {
        var p: Int64 = 1
        for _ in 0..<max(0, min(decimals, 12)) { p *= 10 }
        return p
    }
}
