// FerrySigning
