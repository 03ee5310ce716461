import ArgumentParser
import Foundation

/// `cartstore cart …`: show a user's cart and add, set, remove or clear its items.
///
/// Every mutation sends an `Idempotency-Key` (given with `--idempotency-key` or generated and
/// printed), so a mutation whose outcome is unknown can be retried safely. `set`, `remove` and
/// `clear` act on what a causal context observed; without `--context` they first read the cart
/// and use the context of that read.
struct CartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cart",
        abstract: "Show and change shopping carts.",
        subcommands: [
            ShowCommand.self,
            AddCommand.self,
            SetCommand.self,
            RemoveCommand.self,
            ClearCommand.self,
        ]
    )

    /// The longest user id the server accepts, in UTF-8 bytes.
    static let maximumUserBytes = 200

    /// `/v1/carts/{user}`.
    static func cartPath(_ user: String) -> String {
        "/v1/carts/" + PathEncoding.encode(user)
    }

    /// `/v1/carts/{user}/items/{sku}`.
    static func itemPath(_ user: String, _ sku: String) -> String {
        cartPath(user) + "/items/" + PathEncoding.encode(sku)
    }

    /// Throws a usage error unless `user` is 1…200 UTF-8 bytes.
    static func validateUser(_ user: String) throws {
        if user.isEmpty || user.utf8.count > maximumUserBytes {
            throw ValidationError("USER must be 1…\(maximumUserBytes) bytes of UTF-8 (got \(user.utf8.count)).")
        }
    }

    /// Throws a usage error for an empty SKU.
    static func validateSKU(_ sku: String) throws {
        if sku.isEmpty { throw ValidationError("SKU must not be empty.") }
    }

    /// Throws a usage error for an empty token or one with spaces or control characters.
    static func validateContext(_ context: String?) throws {
        guard let context else { return }
        if context.isEmpty || !context.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            throw ValidationError("--context must be a context token as printed by a read (printable ASCII).")
        }
    }

    /// Runs one cart mutation: reads the cart first for its context when `readContext` is set
    /// and no `explicitContext` was given, sends the mutation with its idempotency key and
    /// context, and prints the cart after it (or the JSON body with `--json`).
    static func mutate(
        options: NodeOptions,
        quorum: QuorumOptions,
        idempotency: IdempotencyOptions,
        user: String,
        method: HTTPVerb,
        path: String,
        body: [UInt8]?,
        explicitContext: String?,
        readContext: Bool
    ) async throws {
        let (key, generated) = idempotency.resolved()
        try await APIClient.withClient(options, timeoutMs: quorum.clientTimeoutMs, idempotencyKey: key) { client in
            var context = explicitContext
            if context == nil && readContext {
                let read = try client.expectSuccess(
                    try await client.request(.get, cartPath(user), query: quorum.queryItems)
                )
                let cart = try client.decode(CartResponse.self, from: read)
                context = cart.context ?? read.causalContext
                if context?.isEmpty == true { context = nil }
            }
            var headers: [(name: String, value: String)] = [(name: "Idempotency-Key", value: key)]
            if let context { headers.append((name: "X-Causal-Context", value: context)) }
            let response = try client.expectSuccess(
                try await client.request(method, path, query: quorum.queryItems, headers: headers, body: body)
            )
            let answeredKey = response.header("Idempotency-Key") ?? key
            let replayed = response.header("Idempotent-Replayed")?.lowercased() == "true"
            if options.json {
                Console.json(response.body)
                if generated { Console.error("idempotency-key: \(answeredKey)") }
                return
            }
            let cart = try client.decode(CartResponse.self, from: response)
            CartTable.show(cart, response: response)
            Console.out(
                "idempotency-key: \(answeredKey)"
                    + (replayed ? " (replayed: this key was used before; the cart is the answer to that first attempt)" : "")
            )
        }
    }
}

extension CartCommand {
    /// `cartstore cart show USER`: the items of a cart and its causal context.
    struct ShowCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show a user's cart (an unknown cart is empty)."
        )

        @Argument(help: "The user whose cart to show.")
        var user: String

        @OptionGroup(title: "Node options") var options: NodeOptions
        @OptionGroup(title: "Quorum options") var quorum: QuorumOptions

        func validate() throws {
            try CartCommand.validateUser(user)
        }

        func run() async throws {
            let options = self.options
            let quorum = self.quorum
            let user = self.user
            try await APIClient.withClient(options, timeoutMs: quorum.clientTimeoutMs) { client in
                let response = try client.expectSuccess(
                    try await client.request(.get, CartCommand.cartPath(user), query: quorum.queryItems)
                )
                if options.json {
                    Console.json(response.body)
                    return
                }
                let cart = try client.decode(CartResponse.self, from: response)
                CartTable.show(cart, response: response)
            }
        }
    }

    /// `cartstore cart add USER SKU`: adds an item, or increments its quantity.
    struct AddCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add an item to a cart, or add to its quantity if it is there.",
            discussion: "Prints the cart after the change and the idempotency key used."
        )

        @Argument(help: "The user whose cart to change.")
        var user: String

        @Argument(help: "The item's SKU.")
        var sku: String

        @Option(name: .customLong("quantity"), help: ArgumentHelp("How many to add (default 1).", valueName: "n"))
        var quantity: Int?

        @Option(name: .customLong("name"), help: ArgumentHelp("The item's display name.", valueName: "text"))
        var name: String?

        @Option(
            name: .customLong("price-minor"),
            help: ArgumentHelp("The unit price in minor currency units (e.g. cents: 1299).", valueName: "n")
        )
        var priceMinor: Int?

        @Option(
            name: .customLong("metadata"),
            help: ArgumentHelp("An item detail as KEY=VALUE; repeat for several.", valueName: "key=value")
        )
        var metadata: [String] = []

        @OptionGroup(title: "Node options") var options: NodeOptions
        @OptionGroup(title: "Quorum options") var quorum: QuorumOptions
        @OptionGroup(title: "Mutation options") var idempotency: IdempotencyOptions

        /// The JSON body of `POST /v1/carts/{user}/items`; absent fields are left out.
        private struct Body: Encodable {
            var sku: String
            var quantity: Int?
            var name: String?
            var priceMinor: Int?
            var metadata: [String: String]?
        }

        func validate() throws {
            try CartCommand.validateUser(user)
            try CartCommand.validateSKU(sku)
            if let quantity, quantity < 1 { throw ValidationError("--quantity must be at least 1 (got \(quantity)).") }
            if let priceMinor, priceMinor < 0 { throw ValidationError("--price-minor must not be negative.") }
            _ = try metadataDictionary()
        }

        /// `--metadata` as a dictionary; nil when none was given.
        private func metadataDictionary() throws -> [String: String]? {
            if metadata.isEmpty { return nil }
            var dictionary: [String: String] = [:]
            for pair in metadata {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw ValidationError("--metadata must be KEY=VALUE (got '\(pair)').")
                }
                let key = String(pair[..<equals])
                if dictionary[key] != nil { throw ValidationError("--metadata gives '\(key)' twice.") }
                dictionary[key] = String(pair[pair.index(after: equals)...])
            }
            return dictionary
        }

        func run() async throws {
            let body = Body(sku: sku, quantity: quantity, name: name, priceMinor: priceMinor, metadata: try metadataDictionary())
            let bytes = Array(try JSONEncoder().encode(body))
            try await CartCommand.mutate(
                options: options,
                quorum: quorum,
                idempotency: idempotency,
                user: user,
                method: .post,
                path: CartCommand.cartPath(user) + "/items",
                body: bytes,
                explicitContext: nil,
                readContext: false
            )
        }
    }

    /// `cartstore cart set USER SKU QUANTITY`: sets an item's quantity (0 removes it).
    struct SetCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set the quantity of an item in a cart (0 removes it).",
            discussion: """
            The change is relative to a causal context. Without --context the cart is read first \
            and the context of that read is used, so the quantity set replaces what the read \
            showed; pass --context with the token of an earlier read to act on what that read \
            showed instead. Fails with item_not_found (404) if the item is not in the cart.
            """
        )

        @Argument(help: "The user whose cart to change.")
        var user: String

        @Argument(help: "The item's SKU.")
        var sku: String

        @Argument(help: "The new quantity (0 removes the item).")
        var quantity: Int

        @Option(
            name: .customLong("context"),
            help: ArgumentHelp("The causal context of an earlier read (default: read the cart now).", valueName: "token")
        )
        var context: String?

        @OptionGroup(title: "Node options") var options: NodeOptions
        @OptionGroup(title: "Quorum options") var quorum: QuorumOptions
        @OptionGroup(title: "Mutation options") var idempotency: IdempotencyOptions

        /// The JSON body of `PATCH /v1/carts/{user}/items/{sku}`.
        private struct Body: Encodable {
            var quantity: Int
        }

        func validate() throws {
            try CartCommand.validateUser(user)
            try CartCommand.validateSKU(sku)
            try CartCommand.validateContext(context)
            if quantity < 0 { throw ValidationError("QUANTITY must not be negative (got \(quantity)).") }
        }

        func run() async throws {
            let bytes = Array(try JSONEncoder().encode(Body(quantity: quantity)))
            try await CartCommand.mutate(
                options: options,
                quorum: quorum,
                idempotency: idempotency,
                user: user,
                method: .patch,
                path: CartCommand.itemPath(user, sku),
                body: bytes,
                explicitContext: context,
                readContext: true
            )
        }
    }

    /// `cartstore cart remove USER SKU`: removes an item.
    struct RemoveCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove an item from a cart.",
            discussion: """
            Removes what a causal context observed. Without --context the cart is read first and \
            the context of that read is used ("remove what I see"); pass --context with the token \
            of an earlier read to remove only what that read showed (an addition made since, on \
            any node, survives). Fails with item_not_found (404) if the item is not in the cart.
            """
        )

        @Argument(help: "The user whose cart to change.")
        var user: String

        @Argument(help: "The item's SKU.")
        var sku: String

        @Option(
            name: .customLong("context"),
            help: ArgumentHelp("The causal context of an earlier read (default: read the cart now).", valueName: "token")
        )
        var context: String?

        @OptionGroup(title: "Node options") var options: NodeOptions
        @OptionGroup(title: "Quorum options") var quorum: QuorumOptions
        @OptionGroup(title: "Mutation options") var idempotency: IdempotencyOptions

        func validate() throws {
            try CartCommand.validateUser(user)
            try CartCommand.validateSKU(sku)
            try CartCommand.validateContext(context)
        }

        func run() async throws {
            try await CartCommand.mutate(
                options: options,
                quorum: quorum,
                idempotency: idempotency,
                user: user,
                method: .delete,
                path: CartCommand.itemPath(user, sku),
                body: nil,
                explicitContext: context,
                readContext: true
            )
        }
    }

    /// `cartstore cart clear USER`: removes every item.
    struct ClearCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "clear",
            abstract: "Remove every item from a cart.",
            discussion: """
            Clears what a causal context observed. Without --context the cart is read first and \
            the context of that read is used ("clear what I see"); pass --context with the token \
            of an earlier read to clear only what that read showed (additions made since survive).
            """
        )

        @Argument(help: "The user whose cart to clear.")
        var user: String

        @Option(
            name: .customLong("context"),
            help: ArgumentHelp("The causal context of an earlier read (default: read the cart now).", valueName: "token")
        )
        var context: String?

        @OptionGroup(title: "Node options") var options: NodeOptions
        @OptionGroup(title: "Quorum options") var quorum: QuorumOptions
        @OptionGroup(title: "Mutation options") var idempotency: IdempotencyOptions

        func validate() throws {
            try CartCommand.validateUser(user)
            try CartCommand.validateContext(context)
        }

        func run() async throws {
            try await CartCommand.mutate(
                options: options,
                quorum: quorum,
                idempotency: idempotency,
                user: user,
                method: .delete,
                path: CartCommand.cartPath(user),
                body: nil,
                explicitContext: context,
                readContext: true
            )
        }
    }
}
