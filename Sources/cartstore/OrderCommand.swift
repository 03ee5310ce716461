import ArgumentParser

/// `cartstore order ID`: the order a checkout decided, read from the replicas of the order.
struct OrderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order",
        abstract: "Show the order placed by a checkout.",
        discussion: """
        ID is the checkout's idempotency key. An id no checkout completed is order_not_found \
        (404, exit status 1).
        """
    )

    @Argument(help: "The order's id (the checkout's idempotency key).")
    var id: String

    @OptionGroup(title: "Node options") var options: NodeOptions
    @OptionGroup(title: "Timeout options") var timeout: TimeoutOptions

    func validate() throws {
        try CheckoutCommand.validateKey(id, option: "ID")
    }

    func run() async throws {
        let options = self.options
        let timeout = self.timeout
        let id = self.id
        try await APIClient.withClient(options, timeoutMs: timeout.clientTimeoutMs) { client in
            let response = try client.expectSuccess(
                try await client.request(.get, "/v1/orders/" + PathEncoding.encode(id), query: timeout.queryItems)
            )
            if options.json {
                Console.json(response.body)
                return
            }
            OrderTable.show(try client.decode(OrderResponse.self, from: response))
        }
    }
}
