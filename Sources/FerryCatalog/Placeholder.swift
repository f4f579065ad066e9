// FerryCatalog
