/// Every bound of the versioning layer in one place, units last in the names.
///
/// Two kinds of limits, so that every merge result can be stored:
/// - **Operation limits** bound what one write may produce at its coordinator: a cart write is
///   refused (a typed error the client sees) if the cart would then encode to more than
///   `cartBytesPerOperationMax` bytes or show more than `cartItemsPerOperationMax` items; a
///   sibling write drops the oldest siblings past `siblingsPerKeyMax` or
///   `siblingBytesPerWriteMax` (and reports how many).
/// - **Record limits** bound what a stored record may hold: `recordBytesMax` (64 MiB, the storage
///   engine's largest value). Merges run during replication and repair, where no client can be
///   told "no", so they are never refused and never capped: they are pure joins, and the record
///   limit leaves room for them. A merged cart is at most about the sum of the merged carts
///   (the record limit is 256 operation budgets: 128 full carts fit with twice the room for
///   wider varints); removals are never refused for size, so a merged cart over the budget can
///   always shrink. A merged sibling set holds at most one write budget per coordinating replica
///   (`clockEntriesMax` = 128 budgets fit). The decoder bounds counts only by the bytes present.
///
/// Records written under one set of limits must be read under limits at least as large.
/// Thread safety: a `Sendable` value type.
public struct VersioningLimits: Hashable, Sendable {
    // MARK: Record limits (decoding and encoding)

    /// Largest encoded record, in bytes (the storage engine's value limit).
    public var recordBytesMax: Int = 64 << 20

    // MARK: Operation limits

    /// A cart operation is refused if the cart would then encode to more bytes than this.
    public var cartBytesPerOperationMax: Int = 256 << 10
    /// A cart operation adding a new SKU is refused once this many items are visible.
    public var cartItemsPerOperationMax: Int = 256
    /// Live siblings a write keeps per key; past it the oldest are dropped (see `SiblingSet`).
    public var siblingsPerKeyMax: Int = 32
    /// Encoded bytes of live siblings a write keeps per key; past it the oldest are dropped, and
    /// a value larger than this alone is refused.
    public var siblingBytesPerWriteMax: Int = 512 << 10
    /// Most replica ids a write may bring into a clock or causal context.
    public var clockEntriesMax: Int = 128
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
    /// Largest quantity or quantity change in one operation.
    public var quantityPerOperationMax: Int64 = 1_000_000
    /// Largest event counter: 2^53 - 1, exact in JSON numbers; about 285 years at 10^6 writes/s.
    public var counterMax: UInt64 = (1 << 53) - 1

    // MARK: Cart bookkeeping

    /// Positions of each replica's quantity series an item remembers, so that an operation
    /// whose context token is a little stale still removes exactly what it observed (older
    /// tokens are refused as stale; see `ActorCounter`).
    public var checkpointsPerCounterMax: Int = 8
    /// Most bytes (UTF-8) in an operation id.
    public var operationIDBytesMax: Int = 64
    /// How long, at least, a cart remembers an operation id after its latest application, in ms
    /// (DynamoDB keeps client tokens for 10 minutes): an id is forgotten at a compaction once
    /// every replica holds all its applications and this much time has passed.
    public var operationWindowMs: UInt64 = 600_000
    /// Most operation ids a coordinator's cart may remember: an operation finding this many is
    /// refused (`tooManyRecentOperations`) until a compaction forgets some. Ids are forgotten
    /// only at compaction, never by a merge or an operation.
    public var operationLogMax: Int = 1_024

    /// The limits CartStore runs with.
    public static let `default` = VersioningLimits()

    /// Default limits.
    public init() {}
}
