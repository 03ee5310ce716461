/// The readable form of an order: a heading line (`order ID  user: USER`), one row per item
/// (`SKU QTY NAME PRICE`, plus `METADATA` when an item has some), then a line with the number
/// of items and units, the total, when and by which node the order was built.
enum OrderTable {
    /// Prints `order` on standard output.
    static func show(_ order: OrderResponse) {
        for line in lines(order) { Console.out(line) }
    }

    /// The lines ``show(_:)`` writes.
    static func lines(_ order: OrderResponse) -> [String] {
        var lines = ["order \(TableFormatter.sanitized(order.id))  user: \(TableFormatter.sanitized(order.user ?? "-"))"]
        let cart = CartResponse(user: order.user, items: order.items, context: nil)
        // The cart table's rows, without its own summary line (an order has no causal context).
        lines.append(contentsOf: CartTable.lines(cart, fallbackContext: nil).dropLast())
        let units = order.items.reduce(0) { $0 + $1.quantity }
        var summary = "\(order.items.count) \(order.items.count == 1 ? "item" : "items") (\(units) \(units == 1 ? "unit" : "units"))"
        summary += "  total: \(order.totalMinor.map { String($0) } ?? "-")"
        summary += "  created: \(order.createdAtMs.map { ValueText.timestamp(ms: $0) } ?? "-")"
        summary += "  coordinator: \(order.coordinator ?? "-")"
        lines.append(summary)
        return lines
    }
}
