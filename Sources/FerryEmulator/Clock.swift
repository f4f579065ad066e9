import FerryCore

/// The emulator's own clock: emulated seconds run `scale` times faster than the monotonic clock, and can be
/// advanced by hand. Every emulated timestamp (task phases, logs, audit) comes from here, never from the wall
/// clock, so tests are deterministic with `scale = 0` plus explicit advances.
struct EmuClock: Sendable, Codable {
    var anchorVirtual: Double
    var anchorMono: Double
    var scale: Double

    init(start: Double, scale: Double, mono: Double = WallClock.monotonic()) {
        anchorVirtual = start
        anchorMono = mono
        self.scale = scale
    }

    func now(mono: Double = WallClock.monotonic()) -> Double {
        anchorVirtual + max(0, mono - anchorMono) * scale
    }

    mutating func advance(_ seconds: Double) { anchorVirtual += seconds }

    mutating func setScale(_ s: Double) {
        let m = WallClock.monotonic()
        anchorVirtual = now(mono: m)
        anchorMono = m
        scale = s
    }

    /// Re-anchors on this process's monotonic clock (after loading a snapshot written by another process).
    mutating func reanchor(at virtualNow: Double) {
        anchorVirtual = virtualNow
        anchorMono = WallClock.monotonic()
    }
}
