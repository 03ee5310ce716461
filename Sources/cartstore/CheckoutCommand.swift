import ArgumentParser
import Foundation

/// `cartstore checkout USER`: checks a cart out into an order, once.
///
/// The checkout's `Idempotency-Key` (given with `--idempotency-key`, or a generated UUID) is the
/// order's id: every attempt with the same key, through any node, answers the same order or
/// none. When the outcome is open (no answer, a 5xx, or 409 `checkout_contended`) the key is
/// printed on standard error with the command to retry.
struct CheckoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkout",
        abstract: "Check a user's cart out into an order (once per idempotency key).",
        discussion: """
        Reads the cart from all of its replicas, decides one order for the idempotency key \
        (strongly consistent: every replica of the order must take part), then removes the \
        ordered items from the cart. Prints the order and the key. A retry with the same \
        --idempotency-key answers the same order (marked replayed) and checks nothing out \
        twice; without the option a random key is generated and printed. An empty cart is \
        empty_cart (409); a key already used for another user's cart is \
        idempotency_key_in_use (409).
        """
    )

    /// The longest checkout id the server accepts, in UTF-8 bytes.
    static let maximumKeyBytes = 48

    @Argument(help: "The user whose cart to check out.")
    var user: String

    @Option(
        name: .customLong("idempotency-key"),
        help: ArgumentHelp(
            "The checkout's id (1…\(CheckoutCommand.maximumKeyBytes) visible ASCII characters, no '/').",
            discussion: "Also the order's id ('cartstore order KEY'). Without this option a random key is generated and printed.",
            valueName: "key"
        )
    )
    var idempotencyKey: String?

    @OptionGroup(title: "Node options") var options: NodeOptions
    @OptionGroup(title: "Timeout options") var timeout: TimeoutOptions

    func validate() throws {
        try CartCommand.validateUser(user)
        if let idempotencyKey { try Self.validateKey(idempotencyKey, option: "--idempotency-key") }
    }

    /// Throws a usage error unless `key` is a checkout id the server accepts.
    static func validateKey(_ key: String, option: String) throws {
        if key.isEmpty || key.utf8.count > maximumKeyBytes {
            throw ValidationError("\(option) must be 1…\(maximumKeyBytes) characters (got \(key.utf8.count) bytes).")
        }
        if !key.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "/") }) {
            throw ValidationError("\(option) must be visible ASCII characters other than '/'.")
        }
    }

    func run() async throws {
        let options = self.options
        let timeout = self.timeout
        let user = self.user
        let generated = idempotencyKey == nil
        let key = idempotencyKey ?? UUID().uuidString.lowercased()
        try await APIClient.withClient(options, timeoutMs: timeout.clientTimeoutMs) { client in
            let response: APIResponse
            do {
                response = try client.expectSuccess(
                    try await client.request(.post, CartCommand.cartPath(user) + "/checkout", query: timeout.queryItems,
                                             headers: [(name: "Idempotency-Key", value: key)])
                )
            } catch let failure as CommandFailure {
                Console.error(lines: failure.messageLines)
                if Self.outcomeOpen(failure) {
                    Console.error("idempotency-key: \(key) (the checkout may or may not have happened; "
                        + "retrying with --idempotency-key \(key) yields its one order, or none)")
                }
                throw ExitCode.failure
            }
            let replayed = response.header("Idempotent-Replayed")?.lowercased() == "true"
            if options.json {
                Console.json(response.body)
                if generated { Console.error("idempotency-key: \(key)") }
                return
            }
            OrderTable.show(try client.decode(OrderResponse.self, from: response))
            Console.out(
                "idempotency-key: \(key)"
                    + (replayed ? " (replayed: an earlier attempt with this key placed this order; nothing was checked out twice)" : "")
            )
        }
    }

    /// True when a checkout that failed this way may still decide its order: no answer, a 5xx,
    /// or 409 `checkout_contended` (concurrent attempts with the same key).
    static func outcomeOpen(_ failure: CommandFailure) -> Bool {
        if failure.outcomeUnknown { return true }
        guard case let .http(response) = failure, response.status == 409,
              let body = try? JSONValue.decode(response.body), case .string("checkout_contended")? = body["error"] else { return false }
        return true
    }
}
