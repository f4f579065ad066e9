func runJMESPathBench(_ args: [String]) {
    print("{\"error\": \"not implemented yet\"}")
}
