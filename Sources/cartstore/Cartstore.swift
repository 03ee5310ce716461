import ArgumentParser

/// `cartstore`: the command-line client of a CartStore cluster. It talks HTTP to one node
/// (`--node`, else `CARTSTORE_NODE`, else 127.0.0.1:8080); any node can serve any request.
///
/// Exit status: 0 on success (including a `kv get` that found concurrent versions), 1 when the
/// node answered with an error or could not be reached, 64 for usage errors.
@main
struct Cartstore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cartstore",
        abstract: "Read and change CartStore shopping carts and raw keys, check carts out, and inspect the cluster.",
        discussion: """
        Every command talks to one node over HTTP: --node HOST:PORT, else the CARTSTORE_NODE \
        environment variable, else 127.0.0.1:8080. --json prints the server's JSON answer instead \
        of tables.

        Errors are printed on standard error as 'error: <kind> (<HTTP status>): <detail>' with \
        the request id. Exit status: 0 success, 1 the node answered with an error or could not \
        be reached, 64 usage error.
        """,
        subcommands: [
            CartCommand.self,
            CheckoutCommand.self,
            OrderCommand.self,
            KVCommand.self,
            AdminCommands.Ring.self,
            AdminCommands.Members.self,
            AdminCommands.Status.self,
        ]
    )
}
