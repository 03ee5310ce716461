extension String {
    /// Byte-wise order of the UTF-8 encodings: the order of SKUs and metadata keys in records
    /// and JSON, reproducible in any language (unlike `String.<`, which is Unicode-aware).
    func utf8Precedes(_ other: String) -> Bool {
        utf8.lexicographicallyPrecedes(other.utf8)
    }
}
