func runProviderBench(_ args: [String]) {
    print("{\"error\": \"not implemented yet\"}")
}
