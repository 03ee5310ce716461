extension CartOperation {
    /// Checks every limit an operation's arguments must meet, before anything changes.
    func validate(limits: VersioningLimits) throws(CartOperationError) {
        if let sku {
            if sku.isEmpty { throw .invalidSKU(sku, reason: "empty") }
            if sku.utf8.count > limits.skuBytesMax {
                throw .invalidSKU(String(sku.prefix(32)), reason: "longer than \(limits.skuBytesMax) bytes")
            }
        }
        let quantityMax = limits.quantityPerOperationMax
        switch self {
        case let .add(_, quantity, details):
            guard quantity >= 1, quantity <= quantityMax else {
                throw .invalidQuantity(quantity, reason: "must be in 1...\(quantityMax)")
            }
            try details.validate(limits: limits)
        case let .changeQuantity(_, delta):
            guard delta != 0, delta.magnitude <= quantityMax.magnitude else {
                throw .invalidQuantity(delta, reason: "delta must be non-zero and at most \(quantityMax) in magnitude")
            }
        case let .setQuantity(_, quantity):
            guard quantity >= 0, quantity <= quantityMax else {
                throw .invalidQuantity(quantity, reason: "must be in 0...\(quantityMax)")
            }
        case let .updateDetails(_, details):
            if details.isEmpty { throw .invalidDetails("no field to update") }
            try details.validate(limits: limits)
        case .remove, .clear:
            break
        }
    }
}

extension CartItemDetails {
    /// Checks the detail fields against `limits`.
    func validate(limits: VersioningLimits) throws(CartOperationError) {
        if let name, name.utf8.count > limits.nameBytesMax {
            throw .invalidDetails("name longer than \(limits.nameBytesMax) bytes")
        }
        if let priceMinor, priceMinor < 0 {
            throw .invalidDetails("negative price \(priceMinor)")
        }
        if let metadata {
            if metadata.count > limits.metadataEntriesMax {
                throw .invalidDetails("more than \(limits.metadataEntriesMax) metadata entries")
            }
            for (key, value) in metadata {
                if key.isEmpty || key.utf8.count > limits.metadataKeyBytesMax {
                    throw .invalidDetails("metadata key must have 1...\(limits.metadataKeyBytesMax) bytes")
                }
                if value.utf8.count > limits.metadataValueBytesMax {
                    throw .invalidDetails("metadata value longer than \(limits.metadataValueBytesMax) bytes")
                }
            }
        }
    }
}
