/// Register-blocked products on one attention head's small matrices (T ≤ a few hundred, head
/// size hs), used by `Attention` instead of many tiny sgemm calls.
///
/// Every routine works on `AttentionTiles.rows` (= 4) rows of its output at a time; a block
/// with fewer valid rows (the last one) still computes 4 rows but reads and writes only the
/// valid ones. Inner loops run 16 lanes wide (`FastMath.Vector`, two AVX2 registers) with fused
/// multiply-adds; remainders of fewer than 16 columns run scalar. Matrices are row-major with
/// an explicit leading dimension (`ld…`, in floats) so that q, k, v can be read in place from
/// the (B, T, 3C) qkv buffer.
///
/// Performance notes: at `tiny` (T = 128, hs = 32) one sgemm call per 32-row block cost more in
/// call overhead and packing than in arithmetic (forward 0.18 ms and backward 0.21 ms per
/// sequence of 4 heads, ≈ 29 GFLOP/s); these loops read K and V straight from L1/L2.
enum AttentionTiles {
    typealias V = FastMath.Vector
    /// Output rows per block.
    static let rows = 4


    /// Loads one float of every 64-byte line of x[r·ld + p·partStride + (0..<width)] for each row
    /// r < rows and part p < parts, and writes their sum to `sink[0]` (the caller overwrites it
    /// later): a burst of independent loads that brings one head's q, k and v into cache
    /// together instead of one demand miss at a time inside the tile loops.
    @inline(__always)
    static func touch(_ x: UnsafePointer<Float>, rows: Int, ld: Int, parts: Int, partStride: Int, width: Int,
                      into sink: UnsafeMutablePointer<Float>) {
        var acc: Float = 0
        for r in 0..<rows {
            for p in 0..<parts {
                let seg = x + (r &* ld &+ p &* partStride)
                var j = 0
                while j < width { acc += seg[j]; j &+= 16 }
            }
        }
        sink[0] = acc
    }

    /// `touch` for the lines of a causal (rows, ld) matrix that `Attention.forward` writes: row i
    /// up to i + 1 rounded up to 16 columns.
    @inline(__always)
    static func touchTriangle(_ x: UnsafePointer<Float>, rows: Int, ld: Int, into sink: UnsafeMutablePointer<Float>) {
        var acc: Float = 0
        for r in 0..<rows {
            let row = x + r &* ld
            var j = 0
            while j <= r { acc += row[j]; j &+= 16 }
        }
        sink[0] = acc
    }

    /// panel (depth, count) with leading dimension `ldp` = transpose of x (count, depth) with
    /// leading dimension `ldx`: panel[d·ldp + j] = x[j·ldx + d].
    static func transpose(_ x: UnsafePointer<Float>, ldx: Int, count: Int, depth: Int,
                          into panel: UnsafeMutablePointer<Float>, ldp: Int) {
        for j in 0..<count {
            let xr = x + j &* ldx
            for d in 0..<depth { panel[d &* ldp &+ j] = xr[d] }
        }
    }

    /// s (valid ≤ 4, cols) = α · x (valid, depth) · panel (depth, cols): the rows of x times the
    /// columns of a transposed panel (S = Q·Kᵀ with panel = Kᵀ). s has leading dimension `lds`.
    @inline(__always)
    static func rowsTimesPanel(valid: Int, cols: Int, depth: Int, alpha: Float,
                               x: UnsafePointer<Float>, ldx: Int, panel: UnsafePointer<Float>, ldp: Int,
                               s: UnsafeMutablePointer<Float>, lds: Int) {
        let x0 = x, x1 = x + (valid > 1 ? ldx : 0), x2 = x + (valid > 2 ? 2 &* ldx : 0)
        let x3 = x + (valid > 3 ? 3 &* ldx : 0)
        var j = 0
        while j &+ 16 <= cols {
            var a0 = V(), a1 = V(), a2 = V(), a3 = V()
            var pp = panel + j
            for d in 0..<depth {
                let y = FastMath.load(pp)
                a0 = a0.addingProduct(V(repeating: x0[d]), y)
                a1 = a1.addingProduct(V(repeating: x1[d]), y)
                a2 = a2.addingProduct(V(repeating: x2[d]), y)
                a3 = a3.addingProduct(V(repeating: x3[d]), y)
                pp += ldp
            }
            FastMath.store(alpha * a0, s + j)
            if valid > 1 { FastMath.store(alpha * a1, s + (lds &+ j)) }
            if valid > 2 { FastMath.store(alpha * a2, s + (2 &* lds &+ j)) }
            if valid > 3 { FastMath.store(alpha * a3, s + (3 &* lds &+ j)) }
            j &+= 16
        }
        while j < cols {
            for r in 0..<valid {
                let xr = x + r &* ldx
                var acc: Float = 0
                for d in 0..<depth { acc += xr[d] * panel[d &* ldp &+ j] }
                s[r &* lds &+ j] = alpha * acc
            }
            j &+= 1
        }
    }

    /// out (valid ≤ 4, depth) = α · w (valid, n) · z (n, depth) (overwritten): each output row is
    /// a combination of the rows of z (Y = P·V, dQ = dS·K). Rows of w are read at stride `ldw`.
    @inline(__always)
    static func rowsCombination(valid: Int, n: Int, depth: Int, alpha: Float,
                                w: UnsafePointer<Float>, ldw: Int, z: UnsafePointer<Float>, ldz: Int,
                                out: UnsafeMutablePointer<Float>, ldo: Int) {
        let w0 = w, w1 = w + (valid > 1 ? ldw : 0), w2 = w + (valid > 2 ? 2 &* ldw : 0)
        let w3 = w + (valid > 3 ? 3 &* ldw : 0)
        var d = 0
        while d &+ 16 <= depth {
            var a0 = V(), a1 = V(), a2 = V(), a3 = V()
            var zp = z + d
            for j in 0..<n {
                let y = FastMath.load(zp)
                a0 = a0.addingProduct(V(repeating: w0[j]), y)
                a1 = a1.addingProduct(V(repeating: w1[j]), y)
                a2 = a2.addingProduct(V(repeating: w2[j]), y)
                a3 = a3.addingProduct(V(repeating: w3[j]), y)
                zp += ldz
            }
            FastMath.store(alpha * a0, out + d)
            if valid > 1 { FastMath.store(alpha * a1, out + (ldo &+ d)) }
            if valid > 2 { FastMath.store(alpha * a2, out + (2 &* ldo &+ d)) }
            if valid > 3 { FastMath.store(alpha * a3, out + (3 &* ldo &+ d)) }
            d &+= 16
        }
        while d < depth {
            for r in 0..<valid {
                let wr = w + r &* ldw
                var acc: Float = 0
                for j in 0..<n { acc += wr[j] * z[j &* ldz &+ d] }
                out[r &* ldo &+ d] = alpha * acc
            }
            d &+= 1
        }
    }

    /// out (valid ≤ 4, depth) = w[from..<n, col..<col+valid]ᵀ · z[from..<n, :] (overwritten): output
    /// row r combines the rows i of z with weights from column col + r of w (dV = Pᵀ·dY,
    /// dK = dSᵀ·Q). Rows of w before `from` are taken as zero (causal: w[i, j] = 0 for i < j).
    @inline(__always)
    static func columnsCombination(valid: Int, col: Int, from: Int, n: Int, depth: Int,
                                   w: UnsafePointer<Float>, ldw: Int, z: UnsafePointer<Float>, ldz: Int,
                                   out: UnsafeMutablePointer<Float>, ldo: Int) {
        // Columns beyond `valid` read column `col` again (in bounds) and are not stored.
        let c0 = col, c1 = col + (valid > 1 ? 1 : 0), c2 = col + (valid > 2 ? 2 : 0), c3 = col + (valid > 3 ? 3 : 0)
        var d = 0
        while d &+ 16 <= depth {
            var a0 = V(), a1 = V(), a2 = V(), a3 = V()
            var zp = z + (from &* ldz &+ d)
            var wp = w + from &* ldw
            for _ in from..<n {
                let y = FastMath.load(zp)
                a0 = a0.addingProduct(V(repeating: wp[c0]), y)
                a1 = a1.addingProduct(V(repeating: wp[c1]), y)
                a2 = a2.addingProduct(V(repeating: wp[c2]), y)
                a3 = a3.addingProduct(V(repeating: wp[c3]), y)
                zp += ldz
                wp += ldw
            }
            FastMath.store(a0, out + d)
            if valid > 1 { FastMath.store(a1, out + (ldo &+ d)) }
            if valid > 2 { FastMath.store(a2, out + (2 &* ldo &+ d)) }
            if valid > 3 { FastMath.store(a3, out + (3 &* ldo &+ d)) }
            d &+= 16
        }
        while d < depth {
            for r in 0..<valid {
                var acc: Float = 0
                for i in from..<n { acc += w[i &* ldw &+ col &+ r] * z[i &* ldz &+ d] }
                out[r &* ldo &+ d] = acc
            }
            d &+= 1
        }
    }
}
