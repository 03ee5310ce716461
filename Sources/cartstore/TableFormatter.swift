/// Renders rows as aligned text columns separated by two spaces.
///
/// Widths count `Character`s (grapheme clusters), not bytes, so an SKU like `Tasse-Grüße` or a
/// name with emoji lines up as the terminal shows it (for characters of single display width).
/// Control characters in cells (newlines, tabs) are shown escaped so that every row stays on
/// one line.
struct TableFormatter {
    /// How a column's cells are aligned.
    enum Alignment {
        case left
        case right
    }

    /// One column: its heading and alignment.
    struct Column {
        var title: String
        var alignment: Alignment

        init(_ title: String, _ alignment: Alignment = .left) {
            self.title = title
            self.alignment = alignment
        }
    }

    /// The columns, in order.
    var columns: [Column]
    /// The rows; each has one cell per column (missing cells print empty, extra ones are dropped).
    private(set) var rows: [[String]] = []

    init(_ columns: [Column]) {
        self.columns = columns
    }

    /// Appends a row.
    mutating func append(_ cells: [String]) {
        rows.append(cells.map(Self.sanitized))
    }

    /// The heading line and one line per row, without trailing spaces.
    func lines() -> [String] {
        var widths = columns.map(\.title.count)
        for row in rows {
            for (i, cell) in row.prefix(columns.count).enumerated() {
                widths[i] = max(widths[i], cell.count)
            }
        }
        var lines: [String] = [render(columns.map(\.title), widths: widths)]
        for row in rows {
            lines.append(render(row, widths: widths))
        }
        return lines
    }

    /// ``lines()`` joined with newlines.
    func render() -> String {
        lines().joined(separator: "\n")
    }

    private func render(_ cells: [String], widths: [Int]) -> String {
        var parts: [String] = []
        for (i, column) in columns.enumerated() {
            let cell = i < cells.count ? cells[i] : ""
            let padding = String(repeating: " ", count: max(0, widths[i] - cell.count))
            parts.append(column.alignment == .left ? cell + padding : padding + cell)
        }
        var line = parts.joined(separator: "  ")
        while line.last == " " { line.removeLast() }
        return line
    }

    /// `text` with control characters written as escapes (`\n`, `\t`, `\u{1B}`).
    static func sanitized(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return text
        }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control {
                switch scalar {
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default: out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
                }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
