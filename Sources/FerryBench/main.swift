// ferry-bench: one entry per benchmark family; `scripts/bench.sh` runs them all and prints the table.
let args = Array(CommandLine.arguments.dropFirst())
switch args.first ?? "" {
case "jmespath": runJMESPathBench(Array(args.dropFirst()))
case "providers": runProviderBench(Array(args.dropFirst()))
case "emulator": runEmulatorBench(Array(args.dropFirst()))
case "store": runStoreBench(Array(args.dropFirst()))
default:
    print("usage: ferry-bench jmespath|providers|emulator|store [options]")
}
