import Foundation

/// Unicode normalization at the cart's edge.
///
/// Inside a cart, text is bytes (`UTF8Text`): equal states must encode to equal bytes, and
/// Swift's `String` equality (canonical equivalence) would let "café" in NFC and in NFD be one
/// key with two spellings. So every operation is brought to NFC (Unicode Normalization Form C,
/// the form the web and most keyboards produce) before it touches a cart: SKUs, names, and
/// metadata keys and values. Two devices that spell a SKU differently then add to one item.
/// Operation ids are opaque and are not normalized.
extension CartOperation {
    /// This operation with every text in NFC.
    public var normalizedNFC: CartOperation {
        switch self {
        case let .add(sku, quantity, details):
            return .add(sku: sku.normalizedNFC, quantity: quantity, details: details.normalizedNFC)
        case let .changeQuantity(sku, delta):
            return .changeQuantity(sku: sku.normalizedNFC, delta: delta)
        case let .setQuantity(sku, quantity):
            return .setQuantity(sku: sku.normalizedNFC, quantity: quantity)
        case let .updateDetails(sku, details):
            return .updateDetails(sku: sku.normalizedNFC, details: details.normalizedNFC)
        case let .remove(sku):
            return .remove(sku: sku.normalizedNFC)
        case .clear:
            return .clear
        }
    }
}

extension CartItemDetails {
    /// These details with every text in NFC. Metadata keys that become equal keep the value
    /// of the least original key by bytes, so the result does not depend on dictionary order.
    var normalizedNFC: CartItemDetails {
        var result = self
        result.name = name?.normalizedNFC
        if let metadata {
            var normalized: [String: (original: [UInt8], value: String)] = [:]
            for (key, value) in metadata {
                let nfc = key.normalizedNFC
                let original = Array(key.utf8)
                if let kept = normalized[nfc], !original.lexicographicallyPrecedes(kept.original) { continue }
                normalized[nfc] = (original, value.normalizedNFC)
            }
            result.metadata = normalized.mapValues(\.value)
        }
        return result
    }
}

extension String {
    /// The string in Unicode Normalization Form C.
    var normalizedNFC: String { precomposedStringWithCanonicalMapping }
}
