/// Vectorised `exp` and `tanh` for the element-wise kernels (GELU, softmax, cross-entropy).
///
/// Performance notes: glibc's scalar `expf`/`tanhf` cost ~10–20 ns per call, which made GELU
/// and softmax a large share of a training step. These SIMD16 versions use Cody–Waite range
/// reduction (x = n·ln2 + r, |r| ≤ ln2/2) and a degree-6 polynomial for eʳ, then scale by 2ⁿ
/// through the exponent bits: max relative error ≈ 2.5e-7 (≈ 2 ulp) over [-87, 88].
/// `rounded(.toNearestOrEven)`, `clamped(lowerBound:upperBound:)`, `pointwiseMax` and
/// `SIMD16<Int32>(_:rounding:)` are not vectorised by Swift 6.3 (35 ns/element); rounding with the
/// 1.5·2²³ trick and clamping with `replacing(with:where:)` gives ~1 ns/element.
/// The vector functions are `@_transparent`: with `@inline(__always)` Swift 6.3 still emitted
/// them out of line (GELU forward, the attention softmax), and a SIMD16 passed across a call is
/// split into four 128-bit registers, so the whole body ran at SSE width (GELU forward 1.86 ns per
/// element). The polynomial uses fused multiply-adds (`addingProduct`).
public enum FastMath {
    public typealias Vector = SIMD16<Float>

    /// 16 floats from `p` (any alignment).
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }

    /// Stores 16 floats at `p` (any alignment).
    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    /// The largest lane of `v` (lanes that are NaN are skipped unless all are). `SIMD.max()`
    /// compiles to a scalar loop of compare-and-branch: it was ~40% of the attention softmax's
    /// samples in a profile; this halves the vector twice with vector selects instead.
    @_transparent
    public static func horizontalMax(_ v: Vector) -> Float {
        var a = v.lowHalf
        let b = v.highHalf
        a.replace(with: b, where: b .> a)
        var c = a.lowHalf
        let d = a.highHalf
        c.replace(with: d, where: d .> c)
        return Swift.max(Swift.max(c[0], c[1]), Swift.max(c[2], c[3]))
    }

    /// eˣ per lane; inputs are clamped to [-87.3, 88.7] (results ≥ 1.2e-38, finite).
    @_transparent
    public static func exp(_ x: Vector) -> Vector {
        var xc = x.replacing(with: 88.7, where: x .> 88.7)
        xc = xc.replacing(with: -87.3, where: xc .< -87.3)
        // n = round(x / ln2) by the 1.5·2²³ trick: its low mantissa bits then hold n as an integer.
        let magic = Vector(repeating: 12_582_912.0)
        let shifted = xc * 1.442_695_04 + magic
        let n = shifted - magic
        var r = xc - n * 0.693_145_751_953_125    // ln2 high part
        r = r - n * 1.428_606_765_330_187e-06      // ln2 low part
        // e^r ≈ 1 + r + r²/2 + … + r⁶/720 (Horner)
        var p = Vector(repeating: 1.0 / 720.0)
        p = Vector(repeating: 1.0 / 120.0).addingProduct(p, r)
        p = Vector(repeating: 1.0 / 24.0).addingProduct(p, r)
        p = Vector(repeating: 1.0 / 6.0).addingProduct(p, r)
        p = Vector(repeating: 0.5).addingProduct(p, r)
        p = Vector(repeating: 1.0).addingProduct(p, r)
        p = Vector(repeating: 1.0).addingProduct(p, r)
        let bits = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        return p * unsafeBitCast((bits &+ 127) &<< 23, to: Vector.self)
    }

    /// tanh per lane, as 1 − 2/(e²ˣ + 1) (absolute error ≈ 2e-7).
    @_transparent
    public static func tanh(_ x: Vector) -> Vector {
        let e = exp(2 * x)
        return 1 - 2 / (e + 1)
    }

    /// Scalar eˣ through the vector path (same rounding as the vector kernels).
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }

    /// Scalar tanh through the vector path.
    @inlinable @inline(__always)
    public static func tanh(_ x: Float) -> Float { tanh(Vector(repeating: x))[0] }
}

/// Vectorised reductions. Swift (like C) does not reorder floating-point additions, so a plain
/// `for` loop summing floats runs one dependent add at a time; these keep 16 partial sums.
public enum Reduce {
    /// Σ_{i<n} x[i].
    @inlinable @inline(__always)
    public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = FastMath.Vector(repeating: 0)
        var i = 0
        while i + 16 <= n {
            acc += UnsafeRawPointer(x + i).loadUnaligned(as: FastMath.Vector.self)
            i += 16
        }
        var s = acc.sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Σ_{i<n} a[i]·b[i].
    @inlinable @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = FastMath.Vector(repeating: 0)
        var i = 0
        while i + 16 <= n {
            acc += UnsafeRawPointer(a + i).loadUnaligned(as: FastMath.Vector.self)
                * UnsafeRawPointer(b + i).loadUnaligned(as: FastMath.Vector.self)
            i += 16
        }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// Σ_{i<n} (x[i] − m)².
    @inlinable @inline(__always)
    public static func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, _ n: Int, mean m: Float) -> Float {
        let mv = FastMath.Vector(repeating: m)
        var acc = FastMath.Vector(repeating: 0)
        var i = 0
        while i + 16 <= n {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: FastMath.Vector.self) - mv
            acc += d * d
            i += 16
        }
        var s = acc.sum()
        while i < n { let d = x[i] - m; s += d * d; i += 1 }
        return s
    }
}
