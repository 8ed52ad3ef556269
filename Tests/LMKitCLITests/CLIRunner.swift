import Foundation
import LMTestSupport
import Testing

/// Runs the real `lmkit` binary (built by `swift test` because this target depends on the
/// `lmkit` executable target) in a child process with stdin/stdout/stderr pipes and a timeout.
enum CLI {
    /// The `lmkit` binary: `$LMKIT_BINARY`, else `lmkit` in the products directory that holds the
    /// running test bundle (`.build/<triple>/<config>/lmkitPackageTests.xctest`).
    static let binary: String? = {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["LMKIT_BINARY"], fm.isExecutableFile(atPath: env) { return env }
        var candidates: [String] = []
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append((exe as NSString).deletingLastPathComponent)
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append((bundle.bundlePath as NSString).deletingLastPathComponent)
        }
        candidates.append(Bundle.main.bundlePath)
        candidates.append((CommandLine.arguments[0] as NSString).deletingLastPathComponent)
        for dir in candidates {
            let p = dir + "/lmkit"
            if fm.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }()

    /// Fails the current test with a clear message when the binary is missing.
    static func requireBinary() throws -> String {
        try #require(binary != nil, """
            the lmkit binary was not found next to the test bundle (products directory); \
            run `swift build --product lmkit` or set LMKIT_BINARY=/path/to/lmkit
            """)
        return binary!
    }

    /// What a run produced.
    struct Result: CustomStringConvertible {
        var arguments: [String]
        var status: Int32
        /// True when the process ended by a signal (a crash or our timeout kill).
        var signalled: Bool
        var timedOut: Bool
        var stdout: Data
        var stderr: String
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        var description: String {
            "lmkit \(arguments.joined(separator: " ")) → status \(status)\(signalled ? " (signal)" : "")\(timedOut ? " (timed out)" : "")\nstderr: \(stderr)\nstdout: \(stdoutText.prefix(400))"
        }
    }

    /// Runs `lmkit ARGS` in `directory` (default: a fresh temp dir), feeding `stdin`.
    @discardableResult
    static func run(_ arguments: [String], in directory: String? = nil, stdin: Data = Data(),
                    timeout: TimeInterval = 60) throws -> Result {
        let bin = try requireBinary()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: bin)
        process.arguments = arguments
        let scratch = directory == nil ? TestData.temporaryDirectory("lmkit-cli") : nil
        defer { if let scratch { try? FileManager.default.removeItem(atPath: scratch) } }
        process.currentDirectoryURL = URL(fileURLWithPath: directory ?? scratch!)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        process.environment = env
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = errPipe
        try process.run()

        let group = DispatchGroup()
        nonisolated(unsafe) var out = Data()
        nonisolated(unsafe) var err = Data()
        DispatchQueue.global().async(group: group) { out = outPipe.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { err = errPipe.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async {
            try? inPipe.fileHandleForWriting.write(contentsOf: stdin)
            try? inPipe.fileHandleForWriting.close()
        }
        nonisolated(unsafe) var timedOut = false
        let killer = DispatchWorkItem {
            if process.isRunning { timedOut = true; process.terminate(); kill(process.processIdentifier, SIGKILL) }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        process.waitUntilExit()
        killer.cancel()
        group.wait()
        return Result(arguments: arguments, status: process.terminationStatus,
                      signalled: process.terminationReason == .uncaughtSignal, timedOut: timedOut,
                      stdout: out, stderr: String(decoding: err, as: UTF8.self))
    }

    /// `lmkit ARGS` must succeed (exit 0, no signal); returns the result.
    @discardableResult
    static func ok(_ arguments: [String], in directory: String? = nil, stdin: Data = Data(),
                   timeout: TimeInterval = 60, sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        let r = try run(arguments, in: directory, stdin: stdin, timeout: timeout)
        try #require(r.status == 0 && !r.signalled, "expected success: \(r)", sourceLocation: sourceLocation)
        return r
    }
}

/// Checks of the bad-input contract: exactly one `lmkit: error: …` line on stderr naming the file
/// (when there is one) and saying what to do, a non-zero exit, no crash, nothing half-written.
enum BadInput {
    /// Words a crash or an uncaught Swift error would print.
    static let crashMarkers = ["Fatal error", "Stack dump", "Backtrace", "backtrace", "Segmentation fault",
                               "Illegal instruction", "Trace/breakpoint", "💣", "Thread 0 crashed"]

    /// Runs `lmkit ARGS` in `directory` and checks the contract.
    /// - mentioning: strings the error line must contain (the file name, a line number, …).
    /// - noOutput: paths (relative to `directory` or absolute) that must not exist afterwards.
    /// - exitCode: 1 for `LMError`; 64 for option values refused in `validate()` (also one line).
    @discardableResult
    static func check(_ arguments: [String], in directory: String, stdin: Data = Data(),
                      mentioning: [String] = [], noOutput: [String] = [], expectFix: Bool = true,
                      exitCode: Int32 = 1,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> CLI.Result {
        let before = tempFiles(in: directory)
        let r = try CLI.run(arguments, in: directory, stdin: stdin)
        #expect(!r.timedOut, "timed out: \(r)", sourceLocation: sourceLocation)
        #expect(!r.signalled, "crashed (signal): \(r)", sourceLocation: sourceLocation)
        #expect(r.status != 0, "expected a non-zero exit: \(r)", sourceLocation: sourceLocation)
        #expect(r.status == exitCode, "expected exit \(exitCode) (1: LMError, 64: option errors): \(r)",
                sourceLocation: sourceLocation)
        for m in crashMarkers {
            #expect(!r.stderr.contains(m), "crash marker \(m) on stderr: \(r)", sourceLocation: sourceLocation)
        }
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "expected exactly one stderr line, got \(lines.count): \(r)", sourceLocation: sourceLocation)
        let line = String(lines.first ?? "")
        #expect(line.hasPrefix("lmkit: error: "), "error line format: \(r)", sourceLocation: sourceLocation)
        if expectFix {
            #expect(line.contains(" — "), "the line should say what to do (`— fix`): \(line)", sourceLocation: sourceLocation)
        }
        for m in mentioning {
            #expect(line.contains(m), "the error should mention \(m): \(line)", sourceLocation: sourceLocation)
        }
        for p in noOutput {
            let full = p.hasPrefix("/") ? p : directory + "/" + p
            #expect(!FileManager.default.fileExists(atPath: full), "output left behind: \(p) (\(r))",
                    sourceLocation: sourceLocation)
        }
        let leftovers = tempFiles(in: directory).subtracting(before)
        #expect(leftovers.isEmpty, "temp files left behind: \(leftovers.sorted())", sourceLocation: sourceLocation)
        return r
    }

    /// ArgumentParser usage errors for option-syntax mistakes: exit 64, the message on stderr,
    /// no crash. (ArgumentParser adds its usage lines; that is accepted for syntax errors only.)
    @discardableResult
    static func usage(_ arguments: [String], in directory: String, mentioning: [String] = [],
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> CLI.Result {
        let r = try CLI.run(arguments, in: directory)
        #expect(!r.signalled && r.status == 64, "expected usage error 64: \(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("Error: ") || r.stderr.hasPrefix("lmkit: error: "), "\(r)", sourceLocation: sourceLocation)
        for m in mentioning { #expect(r.stderr.contains(m), "should mention \(m): \(r)", sourceLocation: sourceLocation) }
        for m in crashMarkers { #expect(!r.stderr.contains(m), "crash marker \(m): \(r)", sourceLocation: sourceLocation) }
        return r
    }

    /// Every `.NAME.tmp-*` file under `directory` (recursive).
    static func tempFiles(in directory: String) -> Set<String> {
        guard let e = FileManager.default.enumerator(atPath: directory) else { return [] }
        var out: Set<String> = []
        while let p = e.nextObject() as? String {
            let name = (p as NSString).lastPathComponent
            if name.hasPrefix(".") && name.contains(".tmp-") { out.insert(p) }
        }
        return out
    }
}

/// Small files written into a temp dir for the tests.
struct Workspace {
    let path: String
    init(_ tag: String = "lmkit-cli") { path = TestData.temporaryDirectory(tag) }
    func url(_ name: String) -> String { path + "/" + name }
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try write(name, Data(text.utf8)) }
    @discardableResult
    func write(_ name: String, _ data: Data) throws -> String {
        let p = url(name)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: p))
        return p
    }
    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: url(name)) }
    func read(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: url(name))) }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Repo files the tests use.
enum Repo {
    static let gpt2Vocab = TestData.repoPath("Vocab/gpt2.vocab")
    static let shakespeare = TestData.repoPath("Corpora/tinyshakespeare.txt")
    /// The first `count` bytes of Tiny Shakespeare, cut at a line end (valid UTF-8: it is ASCII).
    static func shakespeare(bytes count: Int) throws -> String {
        let d = try Data(contentsOf: URL(fileURLWithPath: shakespeare)).prefix(count)
        var s = String(decoding: d, as: UTF8.self)
        if let nl = s.lastIndex(of: "\n") { s = String(s[...nl]) }
        return s
    }
}
