import Testing
@testable import LMKernels

@Suite struct GemmLogTests {
    /// A forward matmul of a shape no other test uses (other suites may run sgemm concurrently)
    /// is recorded as calls that cover all of its rows with its k and n, and only while on.
    @Test func recordsTheCallsOfAMatmulWhileOn() {
        let n = 300, c = 77, oc = 45
        var r = Rand(7)
        let inp = floats(r.doubles(n * c)), w = floats(r.doubles(c * oc))
        var out = [Float](repeating: 0, count: n * oc)
        func run() {
            inp.withUnsafeBufferPointer { pi in
                w.withUnsafeBufferPointer { pw in
                    out.withUnsafeMutableBufferPointer { po in
                        Matmul.forward(out: po.baseAddress!, inp: pi.baseAddress!, weight: pw.baseAddress!, bias: nil,
                                       rows: n, inChannels: c, outChannels: oc, threads: 2)
                    }
                }
            }
        }
        GemmLog.start()
        run()
        let ours = GemmLog.stop().filter { $0.k == c && $0.n == oc && $0.lda == c }
        #expect(!ours.isEmpty)
        #expect(ours.map(\.m).reduce(0, +) == n)
        #expect(ours.allSatisfy { !$0.transA && !$0.transB && $0.ldb == oc && $0.ldc == oc && $0.beta == 0 })
        #expect(ours.map(\.flops).reduce(0, +) == 2 * Double(n * c * oc))
        run()
        GemmLog.start()
        #expect(GemmLog.stop().filter { $0.k == c && $0.n == oc }.isEmpty)
    }
}
