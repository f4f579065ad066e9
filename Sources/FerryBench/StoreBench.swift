func runStoreBench(_ args: [String]) {
    print("{\"error\": \"not implemented yet\"}")
}
