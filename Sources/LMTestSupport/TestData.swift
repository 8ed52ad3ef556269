import Foundation

/// Locations of test data: the repo's own `Corpora/`/`Vocab/` (always present) and
/// `../shared/corpora` (present beside the clone in CI and dev machines; tests that need it
/// must skip cleanly when `sharedCorpora` is nil).
public enum TestData {
    /// Root of the package (the directory holding Package.swift).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.path
            }
        }
        return FileManager.default.currentDirectoryPath
    }()

    /// `packageRoot/<relative>`.
    public static func repoPath(_ relative: String) -> String { packageRoot + "/" + relative }

    /// `../shared/corpora` next to the clone, or `$LMKIT_SHARED_CORPORA`, if present.
    public static let sharedCorpora: String? = {
        if let env = ProcessInfo.processInfo.environment["LMKIT_SHARED_CORPORA"],
           FileManager.default.fileExists(atPath: env) { return env }
        let p = (packageRoot as NSString).deletingLastPathComponent + "/shared/corpora"
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }()

    /// The Python with torch + transformers for cross-checks: `$LMKIT_PYTHON`, else
    /// ../venv/bin/python next to the repo; nil when it is not executable (those checks skip).
    public static let referencePython: String? = {
        let p = ProcessInfo.processInfo.environment["LMKIT_PYTHON"]
            ?? (packageRoot as NSString).deletingLastPathComponent + "/venv/bin/python"
        return FileManager.default.isExecutableFile(atPath: p) ? p : nil
    }()

    /// Runs `python script args…` (script relative to the repo), stderr discarded; returns the
    /// exit status and stdout.
    public static func runPython(_ python: String, script: String, _ arguments: [String]) throws -> (status: Int32, stdout: Data) {
        try run(python, [repoPath(script)] + arguments)
    }

    /// Runs `executable args…` (a path, or a name looked up on PATH), stderr discarded; returns
    /// the exit status and stdout.
    public static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: Data) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [executable] + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, data)
    }

    /// A fresh empty temporary directory (removed by the OS eventually; tests may delete it).
    public static func temporaryDirectory(_ tag: String = "lmkit-test") -> String {
        let p = NSTemporaryDirectory() + "\(tag)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
}
