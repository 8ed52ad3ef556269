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

    /// A fresh empty temporary directory (removed by the OS eventually; tests may delete it).
    public static func temporaryDirectory(_ tag: String = "lmkit-test") -> String {
        let p = NSTemporaryDirectory() + "\(tag)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
}
