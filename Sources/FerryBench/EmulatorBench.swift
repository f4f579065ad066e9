func runEmulatorBench(_ args: [String]) {
    print("{\"error\": \"not implemented yet\"}")
}
