/// Collects the problems found in one file, keeping at most `limit` of them (the rest are only
/// counted) so that a file damaged everywhere cannot flood memory or the terminal.
///
/// Value type; used by one verification at a time.
struct ProblemCollector {
    /// Default most problems kept per file.
    static let problemsPerFileMax = 100

    let file: String
    let limit: Int
    private(set) var problems: [InspectionProblem] = []
    /// Problems found beyond `limit`.
    private(set) var omitted = 0

    init(file: String, limit: Int = ProblemCollector.problemsPerFileMax) {
        self.file = file
        self.limit = limit
    }

    var isEmpty: Bool { problems.isEmpty }

    mutating func add(_ problem: InspectionProblem) {
        if problems.count < limit { problems.append(problem) } else { omitted += 1 }
    }

    mutating func add(offset: Int?, _ reason: String) {
        add(InspectionProblem(file: file, offset: offset, reason: reason))
    }

    mutating func add(_ error: StorageError, context: String? = nil, offset: Int? = nil) {
        add(InspectionProblem(file: file, error: error, context: context, offset: offset))
    }

    mutating func add(contentsOf other: [InspectionProblem]) {
        for p in other { add(p) }
    }
}
