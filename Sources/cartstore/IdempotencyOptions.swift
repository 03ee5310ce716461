import ArgumentParser
import Foundation

/// The `--idempotency-key` option of cart mutations. Without it a random key (a UUID) is
/// generated and printed, so that a mutation whose outcome is unknown (a timeout, a 503) can be
/// retried with the same key and is applied at most once.
struct IdempotencyOptions: ParsableArguments {
    /// The longest key the server accepts, in bytes.
    static let maximumKeyBytes = 128

    @Option(
        name: .customLong("idempotency-key"),
        help: ArgumentHelp(
            "The mutation's idempotency key (1…128 printable ASCII characters).",
            discussion: "A retry with the same key applies the change once and answers as the first attempt did. "
                + "Without this option a random key is generated and printed.",
            valueName: "key"
        )
    )
    var key: String?

    /// The key to send and whether it was generated here (not given by the user).
    func resolved() -> (key: String, generated: Bool) {
        if let key { return (key: key, generated: false) }
        return (key: UUID().uuidString.lowercased(), generated: true)
    }

    func validate() throws {
        guard let key else { return }
        if key.isEmpty || key.utf8.count > Self.maximumKeyBytes {
            throw ValidationError("--idempotency-key must be 1…\(Self.maximumKeyBytes) bytes long.")
        }
        if !key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            throw ValidationError("--idempotency-key must be printable ASCII without spaces.")
        }
    }
}
