import FerryCore
import FerryJSON

extension Engine {
    /// Builds the engine's parts from its config. Providers and the run store slot in here.
    func initComponents(environment: [String: String]) throws(FerryError) {}

    /// Releases network clients and the store. Idempotent.
    public func shutdown() async {}
}
