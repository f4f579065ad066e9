// FerryRuntime
