/// Every bound of the versioning layer in one place, units last in the names.
///
/// The same limits govern operations, encoding and decoding: the encoder refuses (with a typed
/// error) any record the decoder would refuse, so whatever is stored can be read back.
/// Records written under one set of limits must be read under limits at least as large.
///
/// Thread safety: a `Sendable` value type.
public struct VersioningLimits: Hashable, Sendable {
    /// Largest encoded record, in bytes.
    public var recordBytesMax: Int = 1 << 20
    /// Hard cap on live siblings per key; past it the oldest are dropped (see `SiblingSet`).
    public var siblingsPerKeyMax: Int = 32
    /// Most replica ids one clock or causal context may name.
    public var clockEntriesMax: Int = 128
    /// Most out-of-order dots a causal context may hold beyond its vector.
    public var dotCloudMax: Int = 1024
    /// An add of a new SKU is refused once the cart holds this many items.
    public var cartItemsPerOperationMax: Int = 256
    /// Most items a stored cart may hold (merges of concurrent adds may pass the per-operation cap).
    public var cartItemsMax: Int = 1024
    /// Most bytes (UTF-8) in a SKU; SKUs must not be empty.
    public var skuBytesMax: Int = 128
    /// Most bytes (UTF-8) in an item name.
    public var nameBytesMax: Int = 512
    /// Most metadata pairs per item.
    public var metadataEntriesMax: Int = 32
    /// Most bytes (UTF-8) in one metadata key.
    public var metadataKeyBytesMax: Int = 64
    /// Most bytes (UTF-8) in one metadata value.
    public var metadataValueBytesMax: Int = 512
    /// Quantity contributions one replica keeps per item before it folds the oldest into a new one.
    public var quantityEntriesPerReplicaMax: Int = 4
    /// Most dot-tagged entries in one field of one item (a decoding bound).
    public var itemFieldEntriesMax: Int = 512
    /// Largest quantity or quantity change in one operation.
    public var quantityPerOperationMax: Int64 = 1_000_000
    /// Largest event counter: 2^53 - 1, exact in JSON numbers; about 285 years at 10^6 writes/s.
    public var counterMax: UInt64 = (1 << 53) - 1

    /// The limits CartStore runs with.
    public static let `default` = VersioningLimits()

    /// Default limits.
    public init() {}
}
