/// The readable form of a cart: one row per item (`SKU QTY NAME PRICE`, plus `METADATA` when
/// an item has some), then a line with the number of items and units and the causal context.
enum CartTable {
    /// Prints `cart` (the body of `response`) on standard output.
    static func show(_ cart: CartResponse, response: APIResponse) {
        for line in lines(cart, fallbackContext: response.causalContext) {
            Console.out(line)
        }
    }

    /// The lines ``show(_:response:)`` writes.
    static func lines(_ cart: CartResponse, fallbackContext: String?) -> [String] {
        var lines: [String] = []
        if !cart.items.isEmpty {
            let showMetadata = cart.items.contains { !($0.metadata ?? [:]).isEmpty }
            var columns: [TableFormatter.Column] = [
                .init("SKU"), .init("QTY", .right), .init("NAME"), .init("PRICE", .right),
            ]
            if showMetadata { columns.append(.init("METADATA")) }
            var table = TableFormatter(columns)
            for item in cart.items {
                var row: [String] = [
                    item.sku,
                    String(item.quantity),
                    item.name.flatMap { $0.isEmpty ? nil : $0 } ?? "-",
                    item.priceMinor.map { String($0) } ?? "-",
                ]
                if showMetadata { row.append(metadataText(item.metadata ?? [:])) }
                table.append(row)
            }
            lines.append(contentsOf: table.lines())
        }
        let units = cart.items.reduce(0) { $0 + $1.quantity }
        let itemWord = cart.items.count == 1 ? "item" : "items"
        let unitWord = units == 1 ? "unit" : "units"
        let context = nonEmpty(cart.context) ?? nonEmpty(fallbackContext) ?? "-"
        lines.append("\(cart.items.count) \(itemWord) (\(units) \(unitWord))  context: \(context)")
        return lines
    }

    /// `metadata` as `key=value` pairs sorted by key.
    private static func metadataText(_ metadata: [String: JSONValue]) -> String {
        metadata.sorted(by: { $0.key < $1.key })
            .map { "\($0.key)=\($0.value.displayText)" }
            .joined(separator: ", ")
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}
