import LMSupport

/// Seeded random test data and comparisons shared by the kernel tests.
struct Rand {
    var rng: SeededRNG
    init(_ seed: UInt64) { rng = SeededRNG(seed: seed) }
    mutating func doubles(_ n: Int, scale: Double = 1) -> [Double] {
        (0..<n).map { _ in Double(rng.nextGaussian()) * scale }
    }
    mutating func ids(_ n: Int, below bound: Int) -> [Int32] { (0..<n).map { _ in Int32(rng.next(below: bound)) } }
}

func floats(_ x: [Double]) -> [Float] { x.map(Float.init) }
func doubles(_ x: [Float]) -> [Double] { x.map(Double.init) }

/// max |a − b| / max(max |b|, floor): a scale-aware error for comparing Float kernels with Double twins.
func relativeError(_ a: [Float], _ b: [Double], floor: Double = 1e-6) -> Double {
    precondition(a.count == b.count, "length mismatch \(a.count) vs \(b.count)")
    var err = 0.0, scale = floor
    for i in 0..<a.count {
        err = max(err, abs(Double(a[i]) - b[i]))
        scale = max(scale, abs(b[i]))
    }
    return err / scale
}

func relativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-9) -> Double {
    var err = 0.0, scale = floor
    for i in 0..<a.count {
        err = max(err, abs(a[i] - b[i]))
        scale = max(scale, abs(b[i]))
    }
    return err / scale
}

/// Central finite differences of f at x for every coordinate (Double precision).
func finiteDifferences(_ x: [Double], h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
    var x = x
    var out = [Double](repeating: 0, count: x.count)
    for i in 0..<x.count {
        let saved = x[i]
        x[i] = saved + h
        let fp = f(x)
        x[i] = saved - h
        let fm = f(x)
        x[i] = saved
        out[i] = (fp - fm) / (2 * h)
    }
    return out
}

func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

/// Calls body with mutable pointers to copies of `arrays`, then returns the copies.
func withPointers(_ arrays: [[Float]], _ body: ([UnsafeMutablePointer<Float>]) -> Void) -> [[Float]] {
    let ptrs = arrays.map { a -> UnsafeMutablePointer<Float> in
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, a.count))
        p.initialize(from: a, count: a.count)
        return p
    }
    body(ptrs)
    let out = zip(ptrs, arrays).map { Array(UnsafeBufferPointer(start: $0, count: $1.count)) }
    ptrs.forEach { $0.deallocate() }
    return out
}
