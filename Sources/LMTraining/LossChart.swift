import Foundation
import LMSupport

/// A hand-written SVG line chart of the train and validation loss (`RUN/loss.svg`).
///
/// x: optimizer step, y: loss in nats/token (linear, padded to "nice" ticks). Train is a thin
/// blue polyline (decimated to ≤ 2000 points), validation a thicker orange polyline with dots.
public enum LossChart {
    public static let fileName = "loss.svg"

    /// A point series: (step, loss).
    public typealias Series = [(x: Double, y: Double)]

    /// Renders the chart. Non-finite values are skipped. `labels` name the two series in the legend,
    /// `axes` the x and y axes.
    public static func svg(train: Series, validation: Series, title: String, labels: (String, String) = ("train", "val"),
                           axes: (String, String) = ("step", "loss (nats/token)"),
                           width: Double = 720, height: Double = 420) -> String {
        let train = decimate(train.filter { $0.y.isFinite }, to: 2000)
        let validation = validation.filter { $0.y.isFinite }
        let all = train + validation
        let left = 64.0, right = 20.0, top = 40.0, bottom = 52.0
        let plotW = width - left - right, plotH = height - top - bottom
        var xMax = all.map(\.x).max() ?? 1
        if xMax <= 0 { xMax = 1 }
        var yLo = all.map(\.y).min() ?? 0, yHi = all.map(\.y).max() ?? 1
        if yHi - yLo < 1e-6 { yLo -= 0.5; yHi += 0.5 }
        let yTicks = niceTicks(lo: yLo, hi: yHi, count: 6)
        let xTicks = niceTicks(lo: 0, hi: xMax, count: 6)
        yLo = min(yLo, yTicks.first ?? yLo); yHi = max(yHi, yTicks.last ?? yHi)
        let xHi = max(xMax, xTicks.last ?? xMax)
        func px(_ x: Double) -> Double { left + x / xHi * plotW }
        func py(_ y: Double) -> Double { top + (1 - (y - yLo) / (yHi - yLo)) * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="14">\(escape(title))</text>

            """
        // Grid and tick labels.
        for t in yTicks where t >= yLo && t <= yHi {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(py(t)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(t)))\" stroke=\"#e5e5e5\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(label(t))</text>\n"
        }
        for t in xTicks where t <= xHi {
            s += "<line x1=\"\(f(px(t)))\" y1=\"\(f(top))\" x2=\"\(f(px(t)))\" y2=\"\(f(top + plotH))\" stroke=\"#f0f0f0\"/>\n"
            s += "<text x=\"\(f(px(t)))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\">\(label(t))</text>\n"
        }
        // Axes and their labels.
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\" stroke=\"black\"/>\n"
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(escape(axes.0))</text>\n"
        s += "<text x=\"16\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f(top + plotH / 2)))\">\(escape(axes.1))</text>\n"
        // Curves.
        if !train.isEmpty {
            let pts = train.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.2\" points=\"\(pts)\"/>\n"
        }
        if !validation.isEmpty {
            let pts = validation.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\" points=\"\(pts)\"/>\n"
            for p in validation {
                s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.5\" fill=\"#ff7f0e\"/>\n"
            }
        }
        // Legend.
        let lx = left + plotW - 150, ly = top + 10
        s += "<rect x=\"\(f(lx))\" y=\"\(f(ly))\" width=\"140\" height=\"44\" fill=\"white\" stroke=\"#ccc\"/>\n"
        s += "<line x1=\"\(f(lx + 8))\" y1=\"\(f(ly + 14))\" x2=\"\(f(lx + 30))\" y2=\"\(f(ly + 14))\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n"
        s += "<text x=\"\(f(lx + 36))\" y=\"\(f(ly + 18))\">\(escape(labels.0))\(train.last.map { " " + String(format: "%.3f", $0.y) } ?? "")</text>\n"
        s += "<line x1=\"\(f(lx + 8))\" y1=\"\(f(ly + 32))\" x2=\"\(f(lx + 30))\" y2=\"\(f(ly + 32))\" stroke=\"#ff7f0e\" stroke-width=\"2\"/>\n"
        s += "<text x=\"\(f(lx + 36))\" y=\"\(f(ly + 36))\">\(escape(labels.1))\(validation.last.map { " " + String(format: "%.3f", $0.y) } ?? "")</text>\n"
        s += "</svg>\n"
        return s
    }

    /// Renders the chart from metrics records and writes it atomically to `path`.
    public static func write(records: [MetricsRecord], title: String, to path: String) throws {
        let train = records.map { (x: Double($0.step), y: Double($0.trainLoss)) }
        let val = records.compactMap { r in r.valLoss.map { (x: Double(r.step), y: Double($0)) } }
        try AtomicFileWriter.write(svg(train: train, validation: val, title: title), to: path)
    }

    /// Round tick values (1, 2, 5 × 10ᵏ steps) covering [lo, hi].
    static func niceTicks(lo: Double, hi: Double, count: Int) -> [Double] {
        let span = max(hi - lo, 1e-9)
        let raw = span / Double(max(1, count - 1))
        let mag = pow(10, (log10(raw)).rounded(.down))
        let norm = raw / mag
        let step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag
        var t = (lo / step).rounded(.down) * step
        var out: [Double] = []
        while t <= hi + step * 0.999 && out.count < 50 { out.append(t); t += step }
        return out
    }

    static func label(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e7 { return String(Int(v)) }
        return String(format: abs(v) < 10 ? "%.2f" : "%.1f", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Keeps at most `limit` points, evenly spaced, always including the last.
    static func decimate(_ s: Series, to limit: Int) -> Series {
        guard s.count > limit else { return s }
        let stride = Double(s.count - 1) / Double(limit - 1)
        return (0..<limit).map { s[Int((Double($0) * stride).rounded())] }
    }
}
