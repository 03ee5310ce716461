extension Int64 {
    /// `self + other`, clamped to `Int64.min...Int64.max` instead of trapping.
    ///
    /// Quantities decoded from untrusted bytes can be anything; summing them must not trap.
    func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        if !overflow { return sum }
        return other > 0 ? .max : .min
    }

    /// `self - other`, clamped instead of trapping.
    func subtractingSaturating(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        if !overflow { return difference }
        return other > 0 ? .min : .max
    }
}
