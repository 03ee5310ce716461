import ArgumentParser
import Foundation

/// `cartstore kv …`: read, write and delete raw keys (any key not starting with `cart:`).
///
/// Raw keys keep concurrent versions apart: a write without the context of an earlier read
/// does not replace what the key holds but becomes a sibling of it, and a read then answers
/// with every sibling (`300 Multiple Choices`) and a context that covers them all.
struct KVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv",
        abstract: "Read, write and delete raw keys.",
        discussion: """
        A write without --context does not replace what the key holds: it becomes a concurrent \
        version (a sibling). Pass the context printed by 'kv get' to replace what that read saw; \
        a write with the context of a read that found siblings resolves them.
        """,
        subcommands: [GetCommand.self, PutCommand.self, DeleteCommand.self]
    )

    /// The longest raw key the server accepts, in UTF-8 bytes.
    static let maximumKeyBytes = 1000

    /// `/v1/kv/{key}`.
    static func keyPath(_ key: String) -> String {
        "/v1/kv/" + PathEncoding.encode(key)
    }

    /// Throws a usage error unless `key` is 1…1000 bytes and not in the carts' namespace.
    static func validateKey(_ key: String) throws {
        if key.isEmpty || key.utf8.count > maximumKeyBytes {
            throw ValidationError("KEY must be 1…\(maximumKeyBytes) bytes of UTF-8 (got \(key.utf8.count)).")
        }
        if key.hasPrefix("cart:") {
            throw ValidationError("Keys starting with 'cart:' are carts; use 'cartstore cart'.")
        }
    }

    /// The `--json` form of a read or write that has no JSON body: the context and, for a read,
    /// the value in standard base64.
    struct JSONOutput: Encodable {
        var key: String
        var value: String?
        var context: String?

        /// Prints this output pretty-printed with sorted keys.
        func print() throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(self)
            Console.out(String(decoding: data, as: UTF8.self))
        }
    }

    /// Sends a write (`PUT` with `body`, or `DELETE`) of `key` and prints the new context.
    static func write(
        options: NodeOptions,
        quorum: QuorumOptions,
        key: String,
        method: HTTPVerb,
        body: [UInt8]?,
        context: String?,
        done: String
    ) async throws {
        try await APIClient.withClient(options, timeoutMs: quorum.clientTimeoutMs) { client in
            var headers: [(name: String, value: String)] = []
            if let context { headers.append((name: "X-Causal-Context", value: context)) }
            let response = try client.expectSuccess(
                try await client.request(
                    method,
                    keyPath(key),
                    query: quorum.queryItems,
                    headers: headers,
                    body: body,
                    contentType: "application/octet-stream"
                )
            )
            if options.json {
                if JSONPrettyPrinter.format(response.body) != nil {
                    Console.json(response.body)
                } else {
                    try JSONOutput(key: key, value: nil, context: response.causalContext).print()
                }
                return
            }
            Console.out(done)
            Console.out("context: \(response.causalContext ?? "-")")
        }
    }
}

extension KVCommand {
    /// `cartstore kv get KEY`: the value of a key, or all of its concurrent versions.
    struct GetCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "get",
            abstract: "Print a key's value and causal context.",
            discussion: """
            A value that is valid UTF-8 is printed as text, anything else as hex. When the key \
            has concurrent versions, each sibling is listed (deleted ones too) with the context \
            that covers them all; this is not an error (exit status 0). An absent or deleted \
            key is not_found (404, exit status 1); the context of its deletion, if any, is \
            printed with the error.
            """
        )

        @Argument(help: "The key (any text not starting with 'cart:').")
        var key: String

        @Option(
            name: .customLong("output"),
            help: ArgumentHelp(
                "Write the value's raw bytes to this file ('-' for standard output) instead of printing it.",
                valueName: "path"
            )
        )
        var output: String?

        @OptionGroup(title: "Node options") var options: NodeOptions
        @OptionGroup(title: "Quorum options") var quorum: QuorumOptions

        func validate() throws {
            try KVCommand.validateKey(key)
            if output?.isEmpty == true { throw ValidationError("--output must name a file or '-'.") }
        }

        func run() async throws {
            let options = self.options
            let quorum = self.quorum
            let key = self.key
            let output = self.output
            try await APIClient.withClient(options, timeoutMs: quorum.clientTimeoutMs) { client in
                let response = try await client.request(.get, KVCommand.keyPath(key), query: quorum.queryItems)
                switch response.status {
                case 200:
                    try Self.showValue(response, key: key, output: output, json: options.json)
                case 300:
                    if options.json {
                        Console.json(response.body)
                        return
                    }
                    let siblings = try client.decode(SiblingsResponse.self, from: response)
                    Self.showSiblings(siblings, fallbackContext: response.causalContext)
                default:
                    throw CommandFailure.http(response)
                }
            }
        }

        /// Prints (or writes to `output`) the single value of a 200 answer and its context.
        private static func showValue(_ response: APIResponse, key: String, output: String?, json: Bool) throws {
            let context = response.causalContext
            if let output {
                if output == "-" {
                    FileHandle.standardOutput.write(Data(response.body))
                    Console.error("context: \(context ?? "-")")
                } else {
                    do {
                        try Data(response.body).write(to: URL(fileURLWithPath: output))
                    } catch {
                        throw CommandFailure.input("cannot write \(output): \(error.localizedDescription)")
                    }
                    if json {
                        try JSONOutput(key: key, value: nil, context: context).print()
                    } else {
                        Console.out("wrote \(response.body.count) bytes to \(output)")
                        Console.out("context: \(context ?? "-")")
                    }
                }
                return
            }
            if json {
                try JSONOutput(key: key, value: Data(response.body).base64EncodedString(), context: context).print()
                return
            }
            let rendered = ValueText.render(response.body)
            Console.out((rendered.isHex ? "value (hex): " : "value: ") + rendered.text)
            Console.out("context: \(context ?? "-")")
        }

        /// Prints the siblings of a 300 answer as a table and the context covering them.
        private static func showSiblings(_ answer: SiblingsResponse, fallbackContext: String?) {
            Console.out("\(answer.siblings.count) concurrent versions; write with this context to replace them all.")
            var table = TableFormatter([
                .init("#", .right), .init("NODE"), .init("EPOCH", .right), .init("COUNTER", .right),
                .init("WRITTEN"), .init("VALUE"),
            ])
            for (index, sibling) in answer.siblings.enumerated() {
                let value: String
                if sibling.deleted == true {
                    value = "(deleted)"
                } else if let encoded = sibling.value {
                    if let bytes = ValueText.base64Decoded(encoded) {
                        let rendered = ValueText.render(bytes)
                        value = rendered.isHex ? "hex: " + rendered.text : rendered.text
                    } else {
                        value = "(not base64: \(encoded))"
                    }
                } else {
                    value = "-"
                }
                table.append([
                    String(index + 1),
                    sibling.replica?.node ?? "-",
                    sibling.replica?.epoch.map { String($0) } ?? "-",
                    sibling.counter.map { String($0) } ?? "-",
                    sibling.timestampMs.map { ValueText.timestamp(ms: $0) } ?? "-",
                    value,
                ])
            }
            for line in table.lines() { Console.out(line) }
            var context = answer.context ?? fallbackContext ?? "-"
            if context.isEmpty { context = "-" }
            Console.out("context: \(context)")
        }
    }

    /// `cartstore kv put KEY VALUE`: writes a value.
    struct PutCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "put",
            abstract: "Write a key's value (given as text, or from a file or standard input).",
            discussion: """
            Give the value as the VALUE argument (its UTF-8 bytes are stored) or with --file PATH \
            (raw bytes; '-' reads standard input), at most 1 MiB. Without --context the value \
            becomes a concurrent version of what the key holds; with the context of a 'kv get' \
            it replaces what that read saw.
            """
        )

        @Argument(help: "The key (any text not starting with 'cart:').")
        var key: String

        @Argument(help: "The value as text; leave out when using --file.")
        var value: String?

        @Option(name: .customLong("file"), help: ArgumentHelp("Read the value from this file ('-' for standard input).", valueName: "path"))
        var file: String?

        @Option(
            name: .customLong("context"),
            help: ArgumentHelp("The causal context of an earlier read, to replace what it saw.", valueName: "token")
        )
        var context: String?

        @OptionGroup(title: "Node options") var options: NodeOptions
        @OptionGroup(title: "Quorum options") var quorum: QuorumOptions

        func validate() throws {
            try KVCommand.validateKey(key)
            try CartCommand.validateContext(context)
            switch (value, file) {
            case (nil, nil): throw ValidationError("Give the value as VALUE or with --file PATH.")
            case (_?, _?): throw ValidationError("Give the value as VALUE or with --file PATH, not both.")
            default: break
            }
            if file?.isEmpty == true { throw ValidationError("--file must name a file or '-'.") }
        }

        /// The bytes to store: VALUE's UTF-8, or the file's or standard input's contents.
        private func valueBytes() throws -> [UInt8] {
            if let value { return Array(value.utf8) }
            guard let file else { return [] }
            if file == "-" {
                return Array(FileHandle.standardInput.readDataToEndOfFile())
            }
            do {
                return Array(try Data(contentsOf: URL(fileURLWithPath: file)))
            } catch {
                throw CommandFailure.input("cannot read \(file): \(error.localizedDescription)")
            }
        }

        func run() async throws {
            let bytes: [UInt8]
            do {
                bytes = try valueBytes()
            } catch let failure as CommandFailure {
                Console.error(lines: failure.messageLines)
                throw ExitCode.failure
            }
            try await KVCommand.write(
                options: options,
                quorum: quorum,
                key: key,
                method: .put,
                body: bytes,
                context: context,
                done: "stored \(key) (\(bytes.count) bytes)"
            )
        }
    }

    /// `cartstore kv delete KEY`: deletes a key (writes a tombstone).
    struct DeleteCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Delete a key.",
            discussion: """
            Without --context the deletion is concurrent with what the key holds (a later read \
            may show the old value as a sibling of the deletion); with the context of a \
            'kv get' it deletes what that read saw.
            """
        )

        @Argument(help: "The key (any text not starting with 'cart:').")
        var key: String

        @Option(
            name: .customLong("context"),
            help: ArgumentHelp("The causal context of an earlier read, to delete what it saw.", valueName: "token")
        )
        var context: String?

        @OptionGroup(title: "Node options") var options: NodeOptions
        @OptionGroup(title: "Quorum options") var quorum: QuorumOptions

        func validate() throws {
            try KVCommand.validateKey(key)
            try CartCommand.validateContext(context)
        }

        func run() async throws {
            try await KVCommand.write(
                options: options,
                quorum: quorum,
                key: key,
                method: .delete,
                body: nil,
                context: context,
                done: "deleted \(key)"
            )
        }
    }
}
