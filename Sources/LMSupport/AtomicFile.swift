import Foundation

/// Writes a file so that readers only ever see the old file or the complete new one.
///
/// Data goes to `<name>.tmp-<pid>-<n>` in the same directory, is flushed, and is renamed
/// over the destination only when `commit()` is called. If the writer is dropped or
/// `abort()` is called first, the temporary file is removed: no half-written output is
/// ever left behind under the final name.
///
///     let w = try AtomicFileWriter(path: "out.vocab")
///     try w.write(Array("lmkit-vocab 1\n".utf8))
///     try w.commit()
public final class AtomicFileWriter {
    /// Final destination path.
    public let path: String
    /// Temporary path data is written to until `commit()`.
    public let temporaryPath: String
    private var handle: FileHandle?
    private var buffer: [UInt8] = []
    private var committed = false
    private static let counter = AtomicCounter()

    /// Bytes kept in memory before a write(2); large enough to make writes cheap.
    private let bufferLimit = 1 << 20

    /// Opens a temporary file next to `path`. Throws `LMError.io` if the directory is not writable.
    public init(path: String) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let tmpName = ".\(base).tmp-\(getpid())-\(AtomicFileWriter.counter.next())"
        temporaryPath = dir.isEmpty ? tmpName : dir + "/" + tmpName
        if !dir.isEmpty {
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) || !isDir.boolValue {
                throw LMError.io(file: path, "the directory \(dir) does not exist",
                                 fix: "create it first or choose another output path")
            }
        }
        guard FileManager.default.createFile(atPath: temporaryPath, contents: nil),
              let h = FileHandle(forWritingAtPath: temporaryPath) else {
            throw LMError.io(file: path, "cannot create a file in \(dir.isEmpty ? "." : dir)",
                             fix: "check that the directory exists and is writable")
        }
        handle = h
    }

    deinit { if !committed { abort() } }

    /// Appends bytes (buffered).
    public func write(_ bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= bufferLimit { try flushBuffer() }
    }

    /// Appends raw bytes (buffered).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= bufferLimit { try flushBuffer() }
    }

    /// Appends a string as UTF-8.
    public func write(_ string: String) throws { try write(Array(string.utf8)) }

    private func flushBuffer() throws {
        guard let handle else { throw LMError.io(file: path, "write after commit or abort") }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw LMError.io(file: path, "write failed: \(error.localizedDescription)",
                             fix: "check free disk space and permissions")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, fsyncs and renames the temporary file to `path`.
    public func commit() throws {
        try flushBuffer()
        guard let handle else { return }
        try? handle.synchronize()
        try? handle.close()
        self.handle = nil
        if rename(temporaryPath, path) != 0 {
            let err = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw LMError.io(file: path, "cannot rename the finished file into place: \(err)",
                             fix: "check permissions of the output directory")
        }
        committed = true
    }

    /// Removes the temporary file; the destination is untouched.
    public func abort() {
        try? handle?.close()
        handle = nil
        unlink(temporaryPath)
    }

    /// Writes `bytes` to `path` atomically in one call.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let w = try AtomicFileWriter(path: path)
        try w.write(bytes)
        try w.commit()
    }

    /// Writes `string` as UTF-8 to `path` atomically in one call.
    public static func write(_ string: String, to path: String) throws {
        try write(Array(string.utf8), to: path)
    }
}

/// A thread-safe increasing counter (for unique temporary names).
final class AtomicCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}
